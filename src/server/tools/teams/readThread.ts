/** Reading a channel or a chat: the same request, shaping and errors for both tools. */
import { ToolScopeDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, toolSuccess } from '../toolContext';
import { threadMessages } from './teamsShapes';

/** The latest `limit` user messages at a chatMessage collection `path`, as a tool result. */
export async function readThread(deps: ToolDeps, tool: ToolScopeDeclaration, path: string, limit: number, signal: AbortSignal, what: string) {
  try {
    const response: { value?: Array<Record<string, unknown>> } = await createGraphClient(deps.graph, tool.name, tool.scopes)
      .api(path).top(limit).option('signal', requestSignal(signal, deps.graph)).get();
    return toolSuccess(threadMessages(response, limit));
  } catch (error) {
    throw toGraphToolError(error, `reading the ${what}`, tool.scopes);
  }
}
