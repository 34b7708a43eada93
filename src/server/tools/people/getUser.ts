import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { PERSON_FIELDS, PersonSchema, UserIdSchema, shapePerson } from '../shapes';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';

const TOOL = toolDeclaration('get_user');

export function registerGetUserTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get a user',
    description: 'Returns a user of the directory by object id or user principal name: name, email, UPN, job title, department. ' +
      'Use find_people first when you only have a name.',
    inputSchema: { user: UserIdSchema.describe('User object id (GUID) or user principal name (name@domain)') },
    outputSchema: { user: PersonSchema },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const user: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api(`/users/${encodeURIComponent(args.user)}`).select(PERSON_FIELDS).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return toolSuccess({ user: shapePerson(user) });
    } catch (error) {
      throw toGraphToolError(error, `reading the user ${args.user}`, TOOL.scopes);
    }
  }));
}
