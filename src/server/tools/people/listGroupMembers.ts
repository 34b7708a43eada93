import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { GroupIdSchema, PERSON_FIELDS, PersonSchema, shapePerson } from '../shapes';
import { ToolDeps, progressReporter, runTool, toolSuccess } from '../toolContext';

const TOOL = toolDeclaration('list_group_members');

export function registerListGroupMembersTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List a group\'s members',
    description: 'Lists the user members of a group by its object id (from list_my_groups): name, email, job title, department.',
    inputSchema: {
      group: GroupIdSchema.describe('Group object id (GUID)'),
      limit: z.number().int().min(1).max(200).default(25).describe('Maximum number of members (default 25, at most 200)'),
    },
    outputSchema: {
      members: z.array(PersonSchema),
      hasMore: z.boolean().describe('More members exist than were returned; raise limit to see them'),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      const request = client.api(`/groups/${args.group}/members/microsoft.graph.user`).select(PERSON_FIELDS).top(Math.min(args.limit, 100));
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'members'),
      });
      return toolSuccess({ members: items.map(shapePerson), hasMore });
    } catch (error) {
      throw toGraphToolError(error, `listing the members of group ${args.group}`, TOOL.scopes);
    }
  }));
}
