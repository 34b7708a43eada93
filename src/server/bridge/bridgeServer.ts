/**
 * Bridge mode of the bundled server: to VS Code it is a stdio MCP server named after the remote
 * server; every `tools/list` and `tools/call` is forwarded to the remote server over Streamable
 * HTTP with a token the broker serves per request (see remoteFetch). Results come back as the
 * remote server wrote them; cancellation and progress travel both ways. Why a bridge rather
 * than an HTTP server definition: docs/broker-protocol.md, "Remote servers".
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequest, CallToolRequestSchema, CallToolResult, CallToolResultSchema, ListToolsRequestSchema, ListToolsResult, McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { RemoteTokenSource } from '../brokerClient';
import { ToolExtra, toolFailure } from '../tools/toolContext';
import { ToolError, isToolError, scrubSecrets } from '../toolError';
import { BridgeConfig } from './bridgeConfig';
import { cancellableRequests } from './cancellableRequests';
import { FetchLike, remoteFetch } from './remoteFetch';
import { RemoteSession } from './remoteSession';

/** Longest wait for one remote tool call without progress; the remote server bounds its own Graph calls well inside this. */
export const REMOTE_CALL_TIMEOUT_MS = 180_000;

export interface BridgeDeps {
  readonly config: Pick<BridgeConfig, 'remoteUrl' | 'name'>;
  readonly tokens: RemoteTokenSource;
  readonly version: string;
  /** The network (tests count requests); defaults to httpsFetch (kept-alive, the environment's proxy). */
  readonly fetch?: FetchLike;
}

export interface Bridge {
  readonly server: Server;
  close(): Promise<void>;
}

export function createBridge({ config, tokens, version, fetch }: BridgeDeps): Bridge {
  const server = new Server({ name: config.name, version }, { capabilities: { tools: { listChanged: true } } });
  const remote = new RemoteSession({
    url: config.remoteUrl,
    fetch: cancellableRequests(remoteFetch({ server: config.remoteUrl, tokens, fetch })),
    clientVersion: version,
    onToolListChanged: () => void server.sendToolListChanged().catch(() => undefined),
  });
  const origin = new URL(config.remoteUrl).origin;

  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    try {
      return await remote.with(client => client.listTools(request.params, { signal: extra.signal }), extra.signal) as ListToolsResult;
    } catch (error) {
      // VS Code shows a failed tools/list in the server's output: the message must say what to do.
      // (A plain Error: the SDK answers it as an internal error with exactly this message.)
      throw new Error(describeFailure(error, origin));
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const result = await callRemoteTool(remote, request, extra, origin);
    await tokens.reportOutcome(config.remoteUrl, !result.failed, result.failed ? firstText(result.result) : undefined);
    return result.result;
  });

  return { server, close: () => remote.close() };
}

/** A tool result the remote server wrote (even an `isError` one counts as reaching it), or our own error result. */
async function callRemoteTool(remote: RemoteSession, request: CallToolRequest, extra: ToolExtra, origin: string): Promise<{ result: CallToolResult; failed: boolean }> {
  const progressToken = extra._meta?.progressToken;
  const params = withoutProgressToken(request.params);
  try {
    const result = await remote.with(client => client.request({ method: 'tools/call', params }, CallToolResultSchema, {
      signal: extra.signal,
      timeout: REMOTE_CALL_TIMEOUT_MS,
      resetTimeoutOnProgress: true,
      ...(progressToken === undefined ? {} : {
        onprogress: progress => void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => undefined),
      }),
    }), extra.signal);
    return { result: result as CallToolResult, failed: false };
  } catch (error) {
    if (extra.signal.aborted) {
      return { result: toolFailure(new ToolError('Cancelled', 'The call was cancelled.')), failed: false };
    }
    return { result: toolFailure(new ToolError('RemoteError', describeFailure(error, origin))), failed: true };
  }
}

/** Our progress token is the SDK client's to set: VS Code's is restored on the notifications we pass on. */
function withoutProgressToken(params: CallToolRequest['params']): CallToolRequest['params'] {
  if (params._meta?.progressToken === undefined) {
    return params;
  }
  const { progressToken: _dropped, ...meta } = params._meta;
  return { ...params, _meta: meta };
}

/** What went wrong, for people: our own errors as written, the remote server's MCP errors quoted, the rest named. */
function describeFailure(error: unknown, origin: string): string {
  if (isToolError(error)) {
    return error.message;
  }
  if (error instanceof McpError) {
    return `The remote server ${origin} answered with an error: ${scrubSecrets(error.message).slice(0, 400)}`;
  }
  const detail = error instanceof Error ? scrubSecrets(error.message).slice(0, 200) : 'unknown failure';
  return `The exchange with the remote server ${origin} failed (${detail}). Try again; if it keeps failing, run "Entra MCP: Show Status".`;
}

function firstText(result: CallToolResult): string | undefined {
  const item = result.content.find(content => content.type === 'text');
  return item && item.type === 'text' ? item.text : undefined;
}
