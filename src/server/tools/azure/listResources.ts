import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { ResourceGroupSchema, SubscriptionIdSchema, collectArmPages, createArmClient } from './armAccess';

const TOOL = toolDeclaration('list_resources');

export function registerListResourcesTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List Azure resources in a group',
    description: 'Lists the resources of an Azure resource group: name, type (e.g. Microsoft.Web/sites), kind, location and SKU.',
    inputSchema: {
      subscriptionId: SubscriptionIdSchema.describe('Subscription id (GUID)'),
      resourceGroup: ResourceGroupSchema.describe('Resource group name'),
      limit: z.number().int().min(1).max(500).default(100).describe('Maximum number of resources (default 100, at most 500)'),
    },
    outputSchema: {
      ...UntrustedOutput,
      resources: z.array(z.object({ id: z.string().nullable(), name: z.string().nullable(), type: z.string().nullable(), kind: z.string().nullable(), location: z.string().nullable(), sku: z.string().nullable() })),
      hasMore: z.boolean(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createArmClient(deps, TOOL.name, TOOL.scopes);
      const request = client.api(`/subscriptions/${args.subscriptionId}/resourceGroups/${encodeURIComponent(args.resourceGroup)}/resources`)
        .query({ 'api-version': '2021-04-01' }).top(args.limit);
      const { items, hasMore } = await collectArmPages(client, request, { limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'resources') });
      return untrustedSuccess({
        resources: items.map(resource => ({
          id: textField(resource, 'id'),
          name: textField(resource, 'name'),
          type: textField(resource, 'type'),
          kind: textField(resource, 'kind'),
          location: textField(resource, 'location'),
          sku: textField((resource.sku ?? {}) as Record<string, unknown>, 'name'),
        })),
        hasMore,
      });
    } catch (error) {
      throw toGraphToolError(error, `listing resources of ${args.resourceGroup}`, TOOL.scopes);
    }
  }));
}
