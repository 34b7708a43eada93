/**
 * Azure Resource Manager through the same client stack as Graph (host guard, broker token,
 * claims challenges, bounded retries), with ARM's own paging: `nextLink`, not `@odata.nextLink`.
 */
import { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import * as z from 'zod';
import { createGraphClient } from '../../graph/graphClient';
import { ToolDeps } from '../toolContext';

export const SubscriptionIdSchema = z.string().trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a subscription id (GUID) from list_subscriptions');

// Azure refuses group names ending in a period; refusing them here also keeps "." and ".." out of the ARM path.
export const ResourceGroupSchema = z.string().trim().regex(/^[-\w._()]{0,89}[-\w_()]$/, 'a resource group name from list_resource_groups');

export function createArmClient(deps: ToolDeps, tool: string, scopes: readonly string[]): Client {
  return createGraphClient({ endpoint: deps.armEndpoint, tokens: deps.tokens, retry: deps.graph.retry }, tool, scopes, { defaultVersion: '' });
}

export interface ArmCollectOptions {
  readonly limit: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (collected: number) => void;
}

/**
 * Fetches the first page of `request` and follows `nextLink` until the limit; the host guard
 * keeps every link on the ARM endpoint.
 */
export async function collectArmPages(client: Client, request: GraphRequest, options: ArmCollectOptions): Promise<{ items: Record<string, unknown>[]; hasMore: boolean }> {
  const items: Record<string, unknown>[] = [];
  let page: Record<string, unknown> = await request.option('signal', options.signal).get();
  for (;;) {
    items.push(...(Array.isArray(page.value) ? page.value as Record<string, unknown>[] : []));
    options.onProgress?.(Math.min(items.length, options.limit));
    const nextLink = typeof page.nextLink === 'string' ? page.nextLink : undefined;
    if (!nextLink || items.length >= options.limit) {
      return { items: items.slice(0, options.limit), hasMore: items.length > options.limit || nextLink !== undefined };
    }
    options.signal.throwIfAborted();
    page = await client.api(nextLink).option('signal', options.signal).get();
  }
}
