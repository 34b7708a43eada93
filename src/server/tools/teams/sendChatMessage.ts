import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';
import { ThreadIdSchema } from './teamsShapes';

const TOOL = toolDeclaration('send_chat_message');

export function registerSendChatMessageTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Send a Teams chat message',
    description: 'Sends a plain-text message to a Teams chat (id from list_chats) as the signed-in user. ' +
      'Only call it when the user asked to send this message; VS Code asks them to confirm.',
    inputSchema: {
      chatId: ThreadIdSchema.describe('Chat id from list_chats'),
      text: z.string().min(1).max(28_000).describe('Message text, plain text'),
    },
    outputSchema: { sent: z.boolean(), messageId: z.string() },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const created: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes, { nonIdempotent: true })
        .api(`/chats/${encodeURIComponent(args.chatId)}/messages`).option('signal', requestSignal(extra.signal, deps.graph))
        .post({ body: { contentType: 'text', content: args.text } });
      return toolSuccess({ sent: true, messageId: String(created.id ?? '') });
    } catch (error) {
      throw toGraphToolError(error, 'sending the chat message', TOOL.scopes);
    }
  }));
}
