/**
 * Cancellation a stateless server can see. The MCP client cancels a request by sending
 * `notifications/cancelled`; a stateless Streamable HTTP server (ours among them) has no session
 * to match that notification to, so it drops it and stops work only when the request's own HTTP
 * exchange ends. This wrapper does both: the notification still goes out, and the POST that
 * carried the cancelled request is aborted, so the remote server stops calling Graph for nobody.
 */
import { FetchLike } from './remoteFetch';

/** Bodies are small JSON-RPC messages; a larger one (a big tool argument) is never a cancellation. */
const MAX_INSPECTED_BODY_CHARS = 64 * 1024;

export function cancellableRequests(send: FetchLike): FetchLike {
  const inFlight = new Map<string, AbortController>();
  return async (url, init = {}) => {
    const message = typeof init.body === 'string' && init.body.length <= MAX_INSPECTED_BODY_CHARS ? parse(init.body) : undefined;
    const cancelled = message?.method === 'notifications/cancelled' ? idOf(message.params?.requestId) : undefined;
    if (cancelled !== undefined) { inFlight.get(cancelled)?.abort(); }
    const id = message?.method && message.method !== 'notifications/cancelled' ? idOf(message.id) : undefined;
    if (id === undefined) {
      return send(url, init);
    }
    const controller = new AbortController();
    inFlight.set(id, controller);
    const settle = () => {
      if (inFlight.get(id) === controller) { inFlight.delete(id); }
    };
    try {
      const signal = init.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
      return untilRead(await send(url, { ...init, signal }), settle);
    } catch (error) {
      settle();
      throw error;
    }
  };
}

/** The answer may stream (SSE) long after its headers: the request stays cancellable until its body is read. */
function untilRead(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          done();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        done();
        controller.error(error);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

interface MessageLike { method?: unknown; id?: unknown; params?: { requestId?: unknown } }

function parse(body: string): MessageLike | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as MessageLike : undefined;
  } catch {
    return undefined;
  }
}

function idOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? `${typeof value}:${value}` : undefined;
}
