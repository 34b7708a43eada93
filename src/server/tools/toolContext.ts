import { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { TokenSource } from '../brokerClient';
import { GraphAccess } from '../graph/graphClient';
import { ToolError, isToolError, scrubSecrets } from '../toolError';

/** What every tool is given: the broker, and Graph/ARM access built on it. */
export interface ToolDeps {
  readonly tokens: TokenSource;
  readonly graph: GraphAccess;
  readonly armEndpoint: string;
  /** Runs around every tool call; the remote server checks the caller's role and binds the caller there. */
  readonly guard?: ToolGuard;
}

/** Wraps one tool call: may refuse it (an `isError` result) or run `call` in the caller's context. */
export type ToolGuard = (tool: string, extra: ToolExtra, call: () => Promise<CallToolResult>) => Promise<CallToolResult>;

/** A successful result: the structured value, and the same as JSON text for clients without structured output. */
export function toolSuccess<T extends Record<string, unknown>>(structured: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** A failed result the model can relay: the message says what the user can do. */
export function toolFailure(error: unknown): CallToolResult {
  // Scrubbed once more here: whatever a message quotes from outside, no token text leaves.
  const message = isToolError(error)
    ? scrubSecrets(error.message)
    : 'The tool failed unexpectedly. Run "Entra MCP: Show Log" in VS Code and report what it shows.';
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Runs a tool body and turns any error into an `isError` result. */
export async function runTool(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (!isToolError(error)) {
      process.stderr.write(`[entra-mcp] unexpected tool failure: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    }
    return toolFailure(error);
  }
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Reports progress to the client when it asked for it (sent a progress token); otherwise a no-op. */
export function progressReporter(extra: ToolExtra, total: number, what: string): (progress: number) => void {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) {
    return () => {};
  }
  return progress => {
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message: `${progress} ${what}` } })
      .catch(() => undefined);
  };
}

export { ToolError };
