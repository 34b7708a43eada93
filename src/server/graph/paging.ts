/**
 * Collects items of a Graph collection across pages with the SDK's PageIterator, up to a cap,
 * reporting progress per page and stopping when the caller cancels.
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
  }, { options: { signal: options.signal } });
  await iterator.iterate();
  options.signal.throwIfAborted();
  return { items, hasMore: !iterator.isComplete() };
}
