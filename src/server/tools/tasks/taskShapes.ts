/** Inputs and shapes shared by the Microsoft To Do tools. */
import * as z from 'zod';
import { textField } from '../shapes';

export const TaskListIdSchema = z.string().regex(/^[A-Za-z0-9=_+/-]{8,512}$/, 'a task list id returned by list_task_lists');

export const TASK_FIELDS = ['id', 'title', 'status', 'importance', 'dueDateTime', 'createdDateTime', 'completedDateTime'];

export const TaskSchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  status: z.string().nullable().describe('notStarted, inProgress, completed, waitingOnOthers or deferred'),
  importance: z.string().nullable(),
  due: z.string().nullable().describe('Due date-time, if any'),
  created: z.string().nullable(),
});

export function shapeTask(task: Record<string, unknown>): z.infer<typeof TaskSchema> {
  return {
    id: String(task.id ?? ''),
    title: textField(task, 'title'),
    status: textField(task, 'status'),
    importance: textField(task, 'importance'),
    due: textField((task.dueDateTime ?? {}) as Record<string, unknown>, 'dateTime'),
    created: textField(task, 'createdDateTime'),
  };
}
