import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('list_mail_folders');

export function registerListMailFoldersTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List mail folders',
    description: 'Lists the signed-in user\'s top-level mail folders with their ids and unread/total counts. Use an id with list_messages.',
    inputSchema: {},
    outputSchema: {
      ...UntrustedOutput,
      folders: z.array(z.object({ id: z.string(), name: z.string().nullable(), unread: z.number().int(), total: z.number().int() })),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/mailFolders').select(['id', 'displayName', 'unreadItemCount', 'totalItemCount']).top(100)
        .option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({
        folders: (response.value ?? []).map(folder => ({
          id: String(folder.id ?? ''),
          name: textField(folder, 'displayName'),
          unread: Number(folder.unreadItemCount ?? 0),
          total: Number(folder.totalItemCount ?? 0),
        })),
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing your mail folders', TOOL.scopes);
    }
  }));
}
