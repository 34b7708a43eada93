import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { TASK_FIELDS, TaskListIdSchema, TaskSchema, shapeTask } from './taskShapes';

const TOOL = toolDeclaration('create_task');

export function registerCreateTaskTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Create a To Do task',
    description: 'Adds a task to one of the signed-in user\'s Microsoft To Do lists. Only call it when the user asked for the task; VS Code asks them to confirm.',
    inputSchema: {
      listId: TaskListIdSchema.describe('Task list id from list_task_lists'),
      title: z.string().trim().min(1).max(255).describe('Task title'),
      dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date such as 2026-11-30').optional().describe('Due date (YYYY-MM-DD)'),
      importance: z.enum(['low', 'normal', 'high']).default('normal'),
      note: z.string().max(10_000).optional().describe('Note, plain text'),
    },
    outputSchema: { ...UntrustedOutput, task: TaskSchema },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const payload = {
      title: args.title,
      importance: args.importance,
      ...(args.dueDate ? { dueDateTime: { dateTime: `${args.dueDate}T00:00:00`, timeZone: 'UTC' } } : {}),
      ...(args.note ? { body: { contentType: 'text', content: args.note } } : {}),
    };
    try {
      const created: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes, { nonIdempotent: true })
        .api(`/me/todo/lists/${encodeURIComponent(args.listId)}/tasks`).select(TASK_FIELDS)
        .option('signal', requestSignal(extra.signal, deps.graph)).post(payload);
      return untrustedSuccess({ task: shapeTask(created) });
    } catch (error) {
      throw toGraphToolError(error, 'creating the task', TOOL.scopes);
    }
  }));
}
