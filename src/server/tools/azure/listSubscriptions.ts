import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { collectArmPages, createArmClient } from './armAccess';

const TOOL = toolDeclaration('list_subscriptions');
const LIMIT = 200;

export function registerListSubscriptionsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List Azure subscriptions',
    description: 'Lists the Azure subscriptions the signed-in user can see: id, name, state and tenant. Use an id with list_resource_groups.',
    inputSchema: {},
    outputSchema: {
      ...UntrustedOutput,
      subscriptions: z.array(z.object({ id: z.string(), name: z.string().nullable(), state: z.string().nullable(), tenantId: z.string().nullable() })),
      hasMore: z.boolean(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createArmClient(deps, TOOL.name, TOOL.scopes);
      const request = client.api('/subscriptions').query({ 'api-version': '2022-12-01' });
      const { items, hasMore } = await collectArmPages(client, request, { limit: LIMIT, signal, onProgress: progressReporter(extra, LIMIT, 'subscriptions') });
      return untrustedSuccess({
        subscriptions: items.map(subscription => ({
          id: String(subscription.subscriptionId ?? ''),
          name: textField(subscription, 'displayName'),
          state: textField(subscription, 'state'),
          tenantId: textField(subscription, 'tenantId'),
        })),
        hasMore,
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing your Azure subscriptions', TOOL.scopes);
    }
  }));
}
