/**
 * Collects items of a Graph collection across pages with the SDK's PageIterator, up to a cap,
 * reporting progress per page and stopping when the caller cancels. Every page is asked for
 * with the first request's `Prefer` and `ConsistencyLevel` headers: without them a later page
 * of a calendar view comes back in UTC, or an advanced directory query fails.
 */
import { Client, GraphRequest, PageCollection, PageIterator } from '@microsoft/microsoft-graph-client';

export interface CollectOptions {
  /** Stop after this many items. */
  readonly limit: number;
  readonly signal: AbortSignal;
  /** Called after each page with the number of items so far. */
  readonly onProgress?: (collected: number) => void;
}

export interface Collected<T> {
  readonly items: T[];
  /** Graph has more items than were collected. */
  readonly hasMore: boolean;
}

/** Fetches the first page of `request` and follows `@odata.nextLink` until `limit` items. */
export async function collectPages(client: Client, request: GraphRequest, options: CollectOptions): Promise<Collected<Record<string, unknown>>> {
  const firstPage: PageCollection = await request.option('signal', options.signal).get();
  const items: Array<Record<string, unknown>> = [];
  const pageSize = Math.max(1, firstPage.value.length);
  const iterator = new PageIterator(client, firstPage, item => {
    items.push(item as Record<string, unknown>);
    if (items.length % pageSize === 0) {
      options.onProgress?.(items.length);
    }
    return items.length < options.limit && !options.signal.aborted;
  }, { headers: headersForEveryPage(request), options: { signal: options.signal } });
  await iterator.iterate();
  options.signal.throwIfAborted();
  return { items, hasMore: !iterator.isComplete() };
}

/** Request headers that change what Graph answers, so every page must repeat them. */
const PAGE_HEADERS = new Set(['prefer', 'consistencylevel']);

/** The first request's headers (set with `.header()`; private in the SDK's typings) that later pages need. */
function headersForEveryPage(request: GraphRequest): Record<string, string> {
  const headers = (request as unknown as { _headers?: Record<string, string> })._headers ?? {};
  return Object.fromEntries(Object.entries(headers).filter(([name]) => PAGE_HEADERS.has(name.toLowerCase())));
}
