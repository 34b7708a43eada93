import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('list_my_groups');
const GROUP_FIELDS = ['id', 'displayName', 'description', 'mail', 'groupTypes', 'securityEnabled'];
export const GROUPS_DEFAULT_LIMIT = 25;
export const GROUPS_MAX_LIMIT = 200;

const GroupSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  description: z.string().nullable(),
  mail: z.string().nullable(),
  kind: z.enum(['Microsoft 365', 'security', 'distribution', 'other']).describe('Group kind derived from groupTypes/securityEnabled'),
});

export function registerListMyGroupsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List my groups',
    description: 'Lists the groups the signed-in user is a direct member of (Microsoft 365, security and distribution groups), ' +
      'with name, description, email and kind. Use it for questions about teams, distribution lists or access groups the user belongs to.',
    inputSchema: {
      limit: z.number().int().min(1).max(GROUPS_MAX_LIMIT).default(GROUPS_DEFAULT_LIMIT)
        .describe(`Maximum number of groups to return (default ${GROUPS_DEFAULT_LIMIT}, at most ${GROUPS_MAX_LIMIT})`),
    },
    outputSchema: {
      ...UntrustedOutput,
      groups: z.array(GroupSchema),
      hasMore: z.boolean().describe('More groups exist than were returned; raise limit to see them'),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      // The cast segment keeps directory roles and administrative units out of the list.
      const request = client.api('/me/memberOf/microsoft.graph.group').select(GROUP_FIELDS).top(Math.min(args.limit, 100));
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'groups'),
      });
      return untrustedSuccess({ groups: items.map(shapeGroup), hasMore });
    } catch (error) {
      throw toGraphToolError(error, 'listing your groups', TOOL.scopes);
    }
  }));
}

export function shapeGroup(group: Record<string, unknown>): z.infer<typeof GroupSchema> {
  const text = (key: string) => (typeof group[key] === 'string' ? group[key] as string : null);
  const groupTypes = Array.isArray(group.groupTypes) ? group.groupTypes : [];
  const kind = groupTypes.includes('Unified') ? 'Microsoft 365'
    : group.securityEnabled === true ? 'security'
      : group.securityEnabled === false && text('mail') ? 'distribution' : 'other';
  return { id: String(group.id ?? ''), displayName: text('displayName'), description: text('description'), mail: text('mail'), kind };
}
