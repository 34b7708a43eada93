import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { ToolDeps, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { TASK_FIELDS, TaskListIdSchema, TaskSchema, shapeTask } from './taskShapes';

const TOOL = toolDeclaration('list_tasks');

const STATUS_FILTERS = {
  open: "status ne 'completed'",
  completed: "status eq 'completed'",
  all: undefined,
} as const;

export function registerListTasksTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List To Do tasks',
    description: 'Lists tasks of one Microsoft To Do list (id from list_task_lists): title, status, importance, due date. Open tasks by default.',
    inputSchema: {
      listId: TaskListIdSchema.describe('Task list id from list_task_lists'),
      status: z.enum(['open', 'completed', 'all']).default('open').describe('Which tasks: open (default), completed or all'),
      limit: z.number().int().min(1).max(100).default(25).describe('Maximum number of tasks (default 25, at most 100)'),
    },
    outputSchema: { ...UntrustedOutput, tasks: z.array(TaskSchema), hasMore: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      let request = client.api(`/me/todo/lists/${encodeURIComponent(args.listId)}/tasks`).select(TASK_FIELDS)
        .top(Math.min(args.limit, 50));
      const filter = STATUS_FILTERS[args.status];
      if (filter) { request = request.filter(filter); }
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'tasks'),
      });
      return untrustedSuccess({ tasks: items.map(shapeTask), hasMore });
    } catch (error) {
      throw toGraphToolError(error, 'listing the tasks', TOOL.scopes);
    }
  }));
}
