/**
 * The common case of the MCP endpoint answered directly: one JSON-RPC message in a POST,
 * answered with one JSON body, as the SDK's Streamable HTTP transport answers it in stateless
 * JSON-response mode (its checks, status codes and error bodies, in its order). The SDK's
 * transport adapts each Node request to a web `Request` and its answer back to Node, which was
 * a large share of a warm tool call's CPU; this path skips the adaptation, not a check. A batch
 * (an array) is left to the SDK. test/unit/jsonExchange.test.ts holds the two side by side.
 *
 * One addition to JSON-response mode: a request that asks for progress (a `progressToken` in
 * its `_meta`) is answered as a server-sent event stream once the tool reports progress, its
 * progress notifications first and its result last, as the Streamable HTTP transport allows
 * (the client accepts both); a request that reports none is still answered with one JSON body.
 */
import * as http from 'node:http';
import { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  JSONRPCMessage, JSONRPCMessageSchema, MessageExtraInfo, SUPPORTED_PROTOCOL_VERSIONS, isInitializeRequest, isJSONRPCErrorResponse,
  isJSONRPCRequest, isJSONRPCResultResponse,
} from '@modelcontextprotocol/sdk/types.js';
import { RequestOutcome, StatelessMux } from './statelessMux';

/** Answers `body` (already read, parsed and size-checked) if it is a single message; false leaves it to the SDK. */
export function answerSingleMessage(
  req: http.IncomingMessage, res: http.ServerResponse, body: unknown, mux: StatelessMux, outcomes: RequestOutcome[], authInfo: MessageExtraInfo['authInfo'],
): boolean {
  if (Array.isArray(body)) {
    return false;
  }
  const accept = req.headers.accept;
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) {
    errorAnswer(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    return true;
  }
  const parsed = JSONRPCMessageSchema.safeParse(body);
  if (!parsed.success) {
    errorAnswer(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
    return true;
  }
  const message = parsed.data;
  const version = header(req, 'mcp-protocol-version');
  if (!isInitializeRequest(message) && version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    errorAnswer(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
    return true;
  }
  if (!isJSONRPCRequest(message)) {
    // A notification or a response: a stateless exchange has nothing to route it to (the mux drops it too).
    res.writeHead(202).end();
    return true;
  }
  const transport = new OneAnswerTransport(res, wantsProgress(message));
  const link = mux.attach(transport, outcomes);
  res.once('close', () => link.detach());
  transport.onmessage?.(message, { authInfo });
  return true;
}

/**
 * Stands in for the SDK's transport for one request: its answer is the HTTP response. Progress
 * the request asked for turns the response into an event stream; other notifications have
 * nowhere to go in a stateless exchange.
 */
class OneAnswerTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  private streaming = false;

  constructor(private readonly res: http.ServerResponse, private readonly progressWanted: boolean) {}

  async start(): Promise<void> {}

  async close(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) {
      return;
    }
    const isAnswer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    if (this.streaming) {
      this.res.write(sseEvent(message));
      if (isAnswer) { this.res.end(); }
      return;
    }
    if (isAnswer) {
      jsonAnswer(this.res, 200, message);
      return;
    }
    if (this.progressWanted && isProgress(message)) {
      // No buffering by a proxy in front (nginx honours X-Accel-Buffering): each event is news.
      this.res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      this.streaming = true;
      this.res.write(sseEvent(message));
    }
  }
}

function wantsProgress(message: JSONRPCMessage): boolean {
  const meta = (message as { params?: { _meta?: { progressToken?: unknown } } }).params?._meta;
  return meta?.progressToken !== undefined;
}

function isProgress(message: JSONRPCMessage): boolean {
  return (message as { method?: string }).method === 'notifications/progress';
}

/** One server-sent event as the SDK's Streamable HTTP transport writes them. */
function sseEvent(message: JSONRPCMessage): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

function errorAnswer(res: http.ServerResponse, status: number, code: number, message: string): void {
  jsonAnswer(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/** One JSON body with its length declared: nothing to chunk for the client or a proxy in front to parse. */
export function jsonAnswer(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
