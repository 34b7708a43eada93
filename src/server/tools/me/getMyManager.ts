import { GraphError } from '@microsoft/microsoft-graph-client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { PERSON_FIELDS, PersonSchema, shapePerson } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('get_my_manager');
export function registerGetMyManagerTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get my manager',
    description: 'Returns the signed-in user\'s manager (name, email, UPN, job title, department), or null when the directory lists none. ' +
      'Use it for questions about who the user reports to.',
    inputSchema: {},
    outputSchema: { ...UntrustedOutput, manager: PersonSchema.nullable().describe('The manager, or null if none is set') },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const manager: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/manager').select(PERSON_FIELDS).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({ manager: shapePerson(manager) });
    } catch (error) {
      // Graph answers 404 when no manager is set: that is an answer, not a failure.
      if (error instanceof GraphError && error.statusCode === 404) {
        return untrustedSuccess({ manager: null });
      }
      throw toGraphToolError(error, 'reading your manager', TOOL.scopes);
    }
  }));
}
