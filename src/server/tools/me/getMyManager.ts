import { GraphError } from '@microsoft/microsoft-graph-client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';

const TOOL = toolDeclaration('get_my_manager');
const MANAGER_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail', 'jobTitle', 'department'];

const PersonSchema = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
  mail: z.string().nullable(),
  jobTitle: z.string().nullable(),
  department: z.string().nullable(),
});

export function registerGetMyManagerTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get my manager',
    description: 'Returns the signed-in user\'s manager (name, email, UPN, job title, department), or null when the directory lists none. ' +
      'Use it for questions about who the user reports to.',
    inputSchema: {},
    outputSchema: { manager: PersonSchema.nullable().describe('The manager, or null if none is set') },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const manager: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/manager').select(MANAGER_FIELDS).option('signal', requestSignal(extra.signal)).get();
      return toolSuccess({ manager: shapePerson(manager) });
    } catch (error) {
      // Graph answers 404 when no manager is set: that is an answer, not a failure.
      if (error instanceof GraphError && error.statusCode === 404) {
        return toolSuccess({ manager: null });
      }
      throw toGraphToolError(error, 'reading your manager', TOOL.scopes);
    }
  }));
}

function shapePerson(person: Record<string, unknown>): z.infer<typeof PersonSchema> {
  const text = (key: string) => (typeof person[key] === 'string' ? person[key] as string : null);
  return {
    id: String(person.id ?? ''),
    displayName: text('displayName'),
    userPrincipalName: text('userPrincipalName'),
    mail: text('mail'),
    jobTitle: text('jobTitle'),
    department: text('department'),
  };
}
