import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';

const TOOL = toolDeclaration('list_chats');

export function registerListChatsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List my recent chats',
    description: 'Lists the signed-in user\'s Teams chats (one-on-one, group and meeting chats), most recently active first, with ids for list_chat_messages.',
    inputSchema: { limit: z.number().int().min(1).max(50).default(20).describe('Maximum number of chats (default 20, at most 50)') },
    outputSchema: { chats: z.array(z.object({ id: z.string(), topic: z.string().nullable(), type: z.string().nullable(), lastActivity: z.string().nullable() })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/chats').select(['id', 'topic', 'chatType', 'lastUpdatedDateTime'])
        // Graph sorts chats by last activity only with the preview expanded.
        .expand('lastMessagePreview').orderby('lastMessagePreview/createdDateTime desc')
        .top(args.limit).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return toolSuccess({
        chats: (response.value ?? []).slice(0, args.limit).map(chat => ({
          id: String(chat.id ?? ''), topic: textField(chat, 'topic'), type: textField(chat, 'chatType'), lastActivity: textField(chat, 'lastUpdatedDateTime'),
        })),
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing your chats', TOOL.scopes);
    }
  }));
}
