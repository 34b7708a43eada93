/**
 * Lets one MCP server (one catalogue, its tools and JSON Schemas built once) answer every
 * stateless HTTP request. The SDK wants one transport per request (request ids of different
 * clients collide) and a server connects to one transport only; this transport sits between:
 * the server is connected to it once, and each request's own SDK transport is attached for as
 * long as the request lasts. Request ids are rewritten to ones unique in this process on the way
 * in and restored on the way out, so concurrent users never see each other's answers.
 */
import { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessage, MessageExtraInfo, isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';

/** How one JSON-RPC request of an HTTP request ended, for the audit line. */
export interface RequestOutcome {
  readonly method: string;
  readonly tool?: string;
  /** `ok`, `tool_error` (an `isError` result) or `error` (a JSON-RPC error). */
  readonly outcome: 'ok' | 'tool_error' | 'error';
}

interface Route {
  readonly transport: Transport;
  readonly originalId: string | number;
  readonly method: string;
  readonly tool?: string;
  readonly outcomes: RequestOutcome[];
}

type SendOptions = Parameters<Transport['send']>[1];

export class StatelessMux implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly routes = new Map<string, Route>();
  private nextId = 0;

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.routes.clear();
    this.onclose?.();
  }


  /**
   * Routes one request transport's messages to the server until `detach` is called. Client
   * notifications and responses are dropped: in a stateless exchange there is no session they
   * could belong to, and a forwarded `notifications/cancelled` could name another user's request.
   */
  attach(transport: Transport, outcomes: RequestOutcome[]): { detach(): void } {
    const mine = new Set<string>();
    transport.onmessage = (message, extra) => {
      if (!isJSONRPCRequest(message)) {
        return;
      }
      const id = `mux-${++this.nextId}`;
      const tool = message.method === 'tools/call' && typeof message.params?.name === 'string' ? message.params.name : undefined;
      this.routes.set(id, { transport, originalId: message.id, method: message.method, tool, outcomes });
      mine.add(id);
      this.onmessage?.({ ...message, id }, extra);
    };
    return {
      // A client that went away leaves its requests unanswered: cancel them so tools stop working for nobody.
      detach: () => {
        for (const id of mine) {
          if (this.routes.delete(id)) {
            this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'The HTTP request ended.' } });
          }
        }
      },
    };
  }

  async send(message: JSONRPCMessage, options?: SendOptions): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const route = this.routes.get(String(message.id));
      if (!route) { return; }
      this.routes.delete(String(message.id));
      route.outcomes.push({ method: route.method, tool: route.tool, outcome: outcomeOf(message) });
      await this.deliver(route.transport, { ...message, id: route.originalId });
      return;
    }
    if (isJSONRPCRequest(message)) {
      throw new Error('The stateless HTTP endpoint cannot send requests to the client.');
    }
    const related = options?.relatedRequestId === undefined ? undefined : this.routes.get(String(options.relatedRequestId));
    if (related) {
      await this.deliver(related.transport, message, { ...options, relatedRequestId: related.originalId });
    }
  }

  /** A request whose client is gone cannot be answered; that is not the server's error. */
  private async deliver(transport: Transport, message: JSONRPCMessage, options?: SendOptions): Promise<void> {
    try {
      await transport.send(message, options);
    } catch {
      // the HTTP request ended first
    }
  }
}

function outcomeOf(message: JSONRPCMessage): RequestOutcome['outcome'] {
  if (isJSONRPCErrorResponse(message)) {
    return 'error';
  }
  const result = (message as { result?: { isError?: unknown } }).result;
  return result?.isError === true ? 'tool_error' : 'ok';
}
