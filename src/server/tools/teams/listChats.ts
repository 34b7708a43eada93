import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('list_chats');

export function registerListChatsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List my recent chats',
    description: 'Lists the signed-in user\'s Teams chats (one-on-one, group and meeting chats), the chat with the latest message first, ' +
      'with when that message was sent and ids for list_chat_messages.',
    inputSchema: { limit: z.number().int().min(1).max(50).default(20).describe('Maximum number of chats (default 20, at most 50)') },
    outputSchema: { ...UntrustedOutput, chats: z.array(z.object({ id: z.string(), topic: z.string().nullable(), type: z.string().nullable(), lastMessageAt: z.string().nullable().describe('When the latest message was sent (null for a chat without messages)') })) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        // lastUpdatedDateTime changes on renames and member changes too: the last message's time is the
        // preview's createdDateTime, returned only when the preview is expanded, and the documented sort key.
        .api('/me/chats').expand('lastMessagePreview').orderby('lastMessagePreview/createdDateTime desc')
        .top(args.limit).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({
        chats: (response.value ?? []).slice(0, args.limit).map(chat => ({
          id: String(chat.id ?? ''), topic: textField(chat, 'topic'), type: textField(chat, 'chatType'), lastMessageAt: textField((chat.lastMessagePreview ?? {}) as Record<string, unknown>, 'createdDateTime'),
        })),
      });
    } catch (error) {
      throw toGraphToolError(error, 'listing your chats', TOOL.scopes);
    }
  }));
}
