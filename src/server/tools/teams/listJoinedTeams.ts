import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('list_joined_teams');

export function registerListJoinedTeamsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List my Teams',
    description: 'Lists the Microsoft Teams teams the signed-in user is a member of, with ids for list_channels.',
    inputSchema: {},
    outputSchema: { ...UntrustedOutput, teams: z.array(z.object({ id: z.string(), name: z.string().nullable(), description: z.string().nullable() })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        // List joinedTeams documents no OData query options ($select included): the fields are picked here.
        .api('/me/joinedTeams').option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({ teams: (response.value ?? []).map(team => ({ id: String(team.id ?? ''), name: textField(team, 'displayName'), description: textField(team, 'description') })) });
    } catch (error) {
      throw toGraphToolError(error, 'listing your teams', TOOL.scopes);
    }
  }));
}
