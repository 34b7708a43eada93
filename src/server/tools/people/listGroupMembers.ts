import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { GroupIdSchema } from '../shapes';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { BASIC_PERSON_FIELDS, BasicPersonSchema, shapeBasicPerson } from './basicPerson';

const TOOL = toolDeclaration('list_group_members');

export function registerListGroupMembersTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List a group\'s members',
    // GroupMember.ReadBasic.All reads the membership and User.ReadBasic.All the members' basic profile: without it
    // Graph returns each user with only id and type. Job titles would need User.Read.All, so they are not promised.
    description: 'Lists the user members of a group by its object id (from list_my_groups): display name, email and UPN.',
    inputSchema: {
      group: GroupIdSchema.describe('Group object id (GUID)'),
      limit: z.number().int().min(1).max(200).default(25).describe('Maximum number of members (default 25, at most 200)'),
    },
    outputSchema: {
      ...UntrustedOutput,
      members: z.array(BasicPersonSchema),
      hasMore: z.boolean().describe('More members exist than were returned; raise limit to see them'),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      const request = client.api(`/groups/${args.group}/members/microsoft.graph.user`).select(BASIC_PERSON_FIELDS).top(Math.min(args.limit, 100));
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'members'),
      });
      return untrustedSuccess({ members: items.map(shapeBasicPerson), hasMore });
    } catch (error) {
      throw toGraphToolError(error, `listing the members of group ${args.group}`, TOOL.scopes);
    }
  }));
}
