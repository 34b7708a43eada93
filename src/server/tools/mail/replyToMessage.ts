import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';
import { MessageIdSchema } from './mailShapes';

const TOOL = toolDeclaration('reply_to_message');

export function registerReplyToMessageTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Reply to a mail message',
    description: 'Replies to a message (by id from list_messages) as the signed-in user, to the sender or to all. ' +
      'Only call it when the user asked for this reply; VS Code asks them to confirm.',
    inputSchema: {
      id: MessageIdSchema.describe('Message id from list_messages'),
      comment: z.string().min(1).max(50_000).describe('Reply text, plain text'),
      replyAll: z.boolean().default(false).describe('Reply to all recipients instead of only the sender'),
    },
    outputSchema: { replied: z.boolean(), replyAll: z.boolean() },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      await createGraphClient(deps.graph, TOOL.name, TOOL.scopes, { nonIdempotent: true })
        .api(`/me/messages/${encodeURIComponent(args.id)}/${args.replyAll ? 'replyAll' : 'reply'}`)
        .option('signal', requestSignal(extra.signal, deps.graph)).post({ comment: args.comment });
      return toolSuccess({ replied: true, replyAll: args.replyAll });
    } catch (error) {
      throw toGraphToolError(error, 'replying to the message', TOOL.scopes);
    }
  }));
}
