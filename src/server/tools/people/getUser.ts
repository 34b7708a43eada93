import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { UserIdSchema } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { BASIC_PERSON_FIELDS, BasicPersonSchema, shapeBasicPerson } from './basicPerson';

const TOOL = toolDeclaration('get_user');

export function registerGetUserTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get a user',
    // User.ReadBasic.All (no admin consent) reads only the basic profile, so the tool promises no job title or department.
    description: 'Returns a user of the directory by object id or user principal name: display name, email and UPN. ' +
      'Use find_people first when you only have a name.',
    inputSchema: { user: UserIdSchema.describe('User object id (GUID) or user principal name (name@domain)') },
    outputSchema: { ...UntrustedOutput, user: BasicPersonSchema },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const user: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api(`/users/${encodeURIComponent(args.user)}`).select(BASIC_PERSON_FIELDS).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({ user: shapeBasicPerson(user) });
    } catch (error) {
      throw toGraphToolError(error, `reading the user ${args.user}`, TOOL.scopes);
    }
  }));
}
