import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('list_task_lists');

export function registerListTaskListsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List my To Do lists',
    description: 'Lists the signed-in user\'s Microsoft To Do task lists with their ids (the default "Tasks" list is marked). Use an id with list_tasks.',
    inputSchema: {},
    outputSchema: { ...UntrustedOutput, lists: z.array(z.object({ id: z.string(), name: z.string().nullable(), isDefault: z.boolean(), isOwner: z.boolean() })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/todo/lists').option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({
        lists: (response.value ?? []).map(list => ({
          id: String(list.id ?? ''),
          name: textField(list, 'displayName'),
          isDefault: list.wellknownListName === 'defaultList',
          isOwner: list.isOwner === true,
        })),
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing your To Do lists', TOOL.scopes);
    }
  }));
}
