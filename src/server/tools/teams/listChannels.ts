import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { TeamIdSchema } from './teamsShapes';

const TOOL = toolDeclaration('list_channels');

export function registerListChannelsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List a team\'s channels',
    description: 'Lists the channels of a team (id from list_joined_teams), with ids for list_channel_messages.',
    inputSchema: { teamId: TeamIdSchema.describe('Team id (GUID)') },
    outputSchema: { ...UntrustedOutput, channels: z.array(z.object({ id: z.string(), name: z.string().nullable(), description: z.string().nullable(), membershipType: z.string().nullable() })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api(`/teams/${args.teamId}/channels`).select(['id', 'displayName', 'description', 'membershipType'])
        .option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({
        channels: (response.value ?? []).map(channel => ({
          id: String(channel.id ?? ''), name: textField(channel, 'displayName'), description: textField(channel, 'description'), membershipType: textField(channel, 'membershipType'),
        })),
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing the team\'s channels', TOOL.scopes);
    }
  }));
}
