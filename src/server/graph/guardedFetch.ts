/**
 * Last link of every Graph and ARM client's chain, in place of the SDK's RedirectHandler and
 * HTTPMessageHandler. Every hop is checked right before it goes on the network:
 * - the bearer token goes only to https on the configured endpoint's origin;
 * - a file download (`GET …/content`, which Graph answers with 302 to a pre-authenticated URL
 *   on another host) is followed without `Authorization`, https only;
 * - any other redirect is refused.
 * Each `Location` is resolved the way fetch itself resolves it (WHATWG URL), and the resolved
 * URL is what is checked and then requested, so `https:host:port/x`, backslash or tab forms
 * cannot reach a host the check did not see.
 *
 * The answer's body is read here, while it streams, up to a cap; a longer body is cut off
 * (an error, or truncation where the request asked for it) and never read whole. Requests go
 * out through httpsSend (node:https, kept-alive), not fetch: the same answers for less CPU.
 */
import { Context, Middleware, MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import { Readable } from 'node:stream';
import { networkCause } from '../../shared/networkCause';
import { ToolError, scrubSecrets } from '../toolError';
import { raiseInChain } from './graphErrors';
import { BufferedResponse, asResponse } from './bufferedResponse';
import { HttpsAnswer, REDIRECT_STATUSES, headerRecord, httpsSend, isBodiless } from './httpsSend';

/** Largest answer read for JSON or text unless a request sets its own ResponseLimit. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const MAX_REDIRECTS = 5;


/** A request's own cap on the answer's body; `truncated` tells the caller afterwards whether it was cut. */
export class ResponseLimit implements MiddlewareOptions {
  truncated = false;

  constructor(readonly maxBytes: number, readonly overflow: 'error' | 'truncate' = 'error') {}
}

/** A failure to reach the service at all, with the cause's code kept (the SDK's rewrapping keeps only name and message). */
export class NetworkFailure extends Error {
  constructor(cause: string) {
    super(cause);
    this.name = 'NetworkFailure';
  }
}

export class GuardedFetchHandler implements Middleware {
  private readonly origin: string;

  constructor(endpoint: string) {
    this.origin = new URL(endpoint).origin;
  }

  async execute(context: Context): Promise<void> {
    const limit = context.middlewareControl?.getMiddlewareOptions(ResponseLimit) as ResponseLimit | undefined ?? new ResponseLimit(MAX_RESPONSE_BYTES);
    const { url, init } = requestParts(context);
    const answer = await this.follow(url, init);
    context.response = asResponse(await bounded(answer, init.method ?? 'GET', limit, url, init.signal ?? undefined));
  }

  setNext(): void {
    // The last link: nothing comes after the network.
  }

  private async follow(first: URL, init: RequestInit): Promise<HttpsAnswer> {
    const headers = headerRecord(init.headers);
    const method = (init.method ?? 'GET').toUpperCase();
    const isDownload = method === 'GET' && /\/content$/i.test(first.pathname);
    let url = first;
    for (let hop = 0; ; hop++) {
      this.checkHop(url, headers, hop > 0 && isDownload);
      const answer = await send(url, { ...init, headers });
      if (!REDIRECT_STATUSES.has(answer.status) || !answer.headers.has('Location')) {
        return answer;
      }
      answer.body.resume();
      const target = resolveLocation(answer.headers.get('Location')!, url);
      if (method !== 'GET' && method !== 'HEAD') {
        raiseInChain(new ToolError('GraphError', `${this.origin} answered a ${method} with a redirect to ${describe(target)}; redirects are only followed for reads, so the request was not repeated.`));
      }
      if (hop + 1 > MAX_REDIRECTS) {
        raiseInChain(new ToolError('GraphError', `${this.origin} redirected the request more than ${MAX_REDIRECTS} times; it was abandoned.`));
      }
      url = target;
    }
  }

  /**
   * The token only travels to https on the configured origin. A download hop (after the first
   * redirect of a `…/content` GET) goes elsewhere without it, https only; nothing else leaves.
   */
  private checkHop(url: URL, headers: Record<string, string>, downloadHop: boolean): void {
    const onOrigin = url.protocol === 'https:' && url.origin === this.origin;
    if (onOrigin && !downloadHop) {
      return;
    }
    if (downloadHop && url.protocol === 'https:') {
      delete headers.authorization;
      delete headers.cookie;
      return;
    }
    raiseInChain(new ToolError('GraphError', `Refused to follow a redirect to ${describe(url)}: your sign-in is only sent to ${this.origin} over https, ` +
      'and only file downloads may continue elsewhere (over https, without it).'));
  }
}

function requestParts(context: Context): { url: URL; init: RequestInit } {
  const request = context.request;
  if (typeof request === 'string') {
    return { url: new URL(request), init: { ...context.options } };
  }
  const headers = new Headers(request.headers);
  new Headers(context.options?.headers).forEach((value, key) => headers.set(key, value));
  return { url: new URL(request.url), init: { method: request.method, body: request.body, ...context.options, headers, duplex: 'half' } as RequestInit };
}

/** `Location` resolved exactly as fetch would; an unparsable one is refused. */
function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    return raiseInChain(new ToolError('GraphError', `${base.origin} answered with a redirect whose Location is not a valid URL; it was not followed.`));
  }
}

/** Scheme and host of a URL, never its path or query (a download URL carries its own credential). */
function describe(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

async function send(url: URL, init: RequestInit): Promise<HttpsAnswer> {
  try {
    return await httpsSend(url, init);
  } catch (error) {
    if (init.signal?.aborted) {
      throw abortError(init.signal);
    }
    throw new NetworkFailure(scrubSecrets(networkCause(error)).slice(0, 300));
  }
}

/** What fetch rejects with once its signal fired: the signal's reason (a TimeoutError for our deadline). */
function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * The answer with its body read, at most `limit.maxBytes` of it. An empty body carries no
 * content type, so the SDK does not try to parse "" as JSON (Graph answers 202 Accepted that way).
 */
async function bounded(answer: HttpsAnswer, method: string, limit: ResponseLimit, url: URL, signal: AbortSignal | undefined): Promise<BufferedResponse> {
  const { headers } = answer;
  const origin = url.origin;
  // Checked before it goes: the body handed on may be cut short, so its length is not declared.
  const declared = Number(headers.get('Content-Length'));
  headers.delete('Content-Length');
  const init = { status: answer.status, statusText: answer.statusText, headers, url: url.href };
  if (isBodiless(method, answer.status)) {
    answer.body.resume();
    return new BufferedResponse(null, init);
  }
  if (limit.overflow === 'error' && declared > limit.maxBytes) {
    answer.body.destroy();
    tooLarge(origin, limit);
  }
  let body: Uint8Array;
  try {
    body = await readAtMost(answer.body, limit, origin);
  } catch (error) {
    throw signal?.aborted ? abortError(signal) : brokenConnection(error) ?? error;
  }
  if (body.byteLength === 0) {
    headers.delete('Content-Type');
    return new BufferedResponse(null, init);
  }
  return new BufferedResponse(body, init);
}

/** The connection broke while the answer streamed in: a network failure, as fetch reports it, not an unreadable answer. */
function brokenConnection(error: unknown): NetworkFailure | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && (/^E[A-Z]+$/.test(code) || code === 'ERR_STREAM_PREMATURE_CLOSE')
    ? new NetworkFailure(`the connection closed while the answer was read (${code})`)
    : undefined;
}

async function readAtMost(stream: Readable, limit: ResponseLimit, origin: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (total + chunk.byteLength > limit.maxBytes) {
      stream.destroy();
      if (limit.overflow === 'error') {
        tooLarge(origin, limit);
      }
      chunks.push(chunk.subarray(0, limit.maxBytes - total));
      total = limit.maxBytes;
      limit.truncated = true;
      break;
    }
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(origin: string, limit: ResponseLimit): never {
  return raiseInChain(new ToolError('GraphError', `The answer from ${origin} was larger than ${formatBytes(limit.maxBytes)} and was not read. ` +
    'Ask for less: fewer items (top), fewer fields (select) or a narrower filter.'));
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MB` : `${Math.round(bytes / 1024)} KB`;
}
