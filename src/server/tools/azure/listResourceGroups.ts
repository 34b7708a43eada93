import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { SubscriptionIdSchema, collectArmPages, createArmClient } from './armAccess';

const TOOL = toolDeclaration('list_resource_groups');

export function registerListResourceGroupsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List Azure resource groups',
    description: 'Lists the resource groups of an Azure subscription (id from list_subscriptions): name, location, state.',
    inputSchema: {
      subscriptionId: SubscriptionIdSchema.describe('Subscription id (GUID)'),
      limit: z.number().int().min(1).max(500).default(100).describe('Maximum number of groups (default 100, at most 500)'),
    },
    outputSchema: {
      ...UntrustedOutput,
      resourceGroups: z.array(z.object({ name: z.string().nullable(), location: z.string().nullable(), state: z.string().nullable() })),
      hasMore: z.boolean(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createArmClient(deps, TOOL.name, TOOL.scopes);
      const request = client.api(`/subscriptions/${args.subscriptionId}/resourcegroups`).query({ 'api-version': '2021-04-01' }).top(args.limit);
      const { items, hasMore } = await collectArmPages(client, request, { limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'resource groups') });
      return untrustedSuccess({
        resourceGroups: items.map(group => ({
          name: textField(group, 'name'),
          location: textField(group, 'location'),
          state: textField((group.properties ?? {}) as Record<string, unknown>, 'provisioningState'),
        })),
        hasMore,
      });
    } catch (error) {
      throw toGraphToolError(error, `listing resource groups of ${args.subscriptionId}`, TOOL.scopes);
    }
  }));
}
