/**
 * One HTTPS request over a kept-alive connection, for the Graph and ARM chains' last link. It
 * does what fetch did for them for 30–40% less CPU per request (no WHATWG streams, no per-request
 * web-IDL conversions; measured in-process against a local HTTPS server, see BENCHMARKS.md):
 * - the request body is any BodyInit fetch takes, with fetch's default Content-Type;
 * - the answer is decompressed as fetch does (gzip, deflate, br), asked for unless the caller
 *   asked otherwise, small answers in one synchronous call (decodedBody); its body is a Node
 *   stream the caller reads (and caps) itself;
 * - redirects are never followed (the caller checks and follows them);
 * - the signal aborts the request and the reading of its answer;
 * - a kept-alive connection the server closed while it sat idle is retried once on a fresh one
 *   for a read (GET, HEAD): nothing was answered on it, and a read may be repeated;
 * - through a proxy when the environment names one (proxyAgents): a proxy that refuses the
 *   tunnel is reported as such, never taken for the service's own answer;
 * - trusting the OS's roots too, where the runtime can (systemCertificates).
 */
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { DecodedBody, codecFor } from './decodedBody';
import { Route, routeFor } from './proxyAgents';
import { trustSystemCertificates } from './systemCertificates';

export interface HttpsAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /**
   * The answer's body, decompressed (Content-Encoding and Content-Length, which describe the
   * encoded bytes, are then gone from `headers`); empty for HEAD and bodiless statuses.
   */
  readonly body: Readable;
}

const RETRIABLE_METHODS = new Set(['GET', 'HEAD']);
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** An answer that carries no body whatever its headers say (HEAD, 204, 304…): fetch answers it with a null body. */
export function isBodiless(method: string, status: number): boolean {
  return method.toUpperCase() === 'HEAD' || NULL_BODY_STATUSES.has(status);
}

export async function httpsSend(url: URL, init: RequestInit): Promise<HttpsAnswer> {
  if (url.protocol !== 'https:') {
    throw new TypeError(`only https is sent (got ${url.protocol})`);
  }
  trustSystemCertificates();
  const method = (init.method ?? 'GET').toUpperCase();
  const outgoing = headerRecord(init.headers);
  const body = await bodyBytes(init.body, outgoing);
  outgoing.accept ??= '*/*';
  outgoing['accept-encoding'] ??= 'gzip, deflate, br';
  if (body) { outgoing['content-length'] = String(body.byteLength); }
  try {
    return await exchange(url, method, outgoing, body, init.signal ?? undefined);
  } catch (error) {
    if (!(error instanceof StaleConnection) || !RETRIABLE_METHODS.has(method)) {
      throw error instanceof StaleConnection ? error.cause : error;
    }
    return exchange(url, method, outgoing, body, init.signal ?? undefined, true);
  }
}

/** A kept-alive connection failed before anything was answered on it. */
class StaleConnection extends Error {
  constructor(override readonly cause: unknown) {
    super('a kept-alive connection was closed by the server');
  }
}

function exchange(url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined,
  signal: AbortSignal | undefined, freshConnection = false): Promise<HttpsAnswer> {
  const route = routeFor(url, freshConnection);
  return new Promise((resolve, reject) => {
    let refusedBy: number | undefined;
    const request = httpsRequest(url, { method, headers, signal, agent: route.agent }, response => {
      if (refusedBy !== undefined) {
        response.resume();
        reject(proxyRefusal(route, refusedBy, url));
        return;
      }
      resolve(answerOf(response, method));
    });
    // https-proxy-agent hands a refused tunnel's answer (407, 403, 502…) to the request as if the service had sent it.
    request.once('proxyConnect', (connect: { statusCode: number }) => {
      if (connect.statusCode !== 200) { refusedBy = connect.statusCode; }
    });
    request.once('error', error => {
      if (request.reusedSocket && !signal?.aborted && isConnectionClosed(error)) {
        reject(new StaleConnection(error));
        return;
      }
      reject(route.proxy && !signal?.aborted ? throughProxy(error, route.proxy) : error);
    });
    request.end(body);
  });
}

/** The proxy said no to the tunnel: which proxy, what it answered, and what to do about it. */
function proxyRefusal(route: Route, status: number, url: URL): Error {
  const credentials = status === 407 || status === 401;
  const advice = !credentials
    ? (status === 403 ? ': its policy forbids this host. Ask your administrator to allow it' : '')
    : route.credentials === 'url'
      ? ': it did not accept the credentials in VS Code\'s http.proxy setting (or HTTPS_PROXY). Check them, or ask your administrator'
      : route.credentials === 'setting'
        ? ': it did not accept VS Code\'s http.proxyAuthorization setting. Check it, or ask your administrator'
        : ': it asks for credentials. Put them in VS Code\'s http.proxy setting (http://user:password@host:port), or the whole ' +
          'Proxy-Authorization value in http.proxyAuthorization, or ask your administrator';
  return Object.assign(new Error(`the proxy ${route.proxy} refused the connection to ${url.host} (HTTP ${status})${advice}`), { code: 'EPROXYREFUSED' });
}

/** A network error on the way through a proxy names the proxy (never its credentials). */
function throughProxy(error: Error, proxy: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return Object.assign(new Error(`${error.message} (through the proxy ${proxy})`), { code });
}

function isConnectionClosed(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

function answerOf(response: IncomingMessage, method: string): HttpsAnswer {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    headers.append(raw[index], raw[index + 1]);
  }
  const status = response.statusCode ?? 0;
  return { status, statusText: response.statusMessage ?? '', headers, body: isBodiless(method, status) ? response : decoded(response, headers) };
}

/** The body as fetch hands it over: gzip, deflate and br undone (one coding; anything else is passed as it came). */
function decoded(response: IncomingMessage, headers: Headers): Readable {
  const codec = codecFor(headers.get('Content-Encoding'));
  if (!codec) {
    return response;
  }
  headers.delete('Content-Encoding');
  headers.delete('Content-Length');
  return new DecodedBody(response, codec);
}

/**
 * Request headers as node:http takes them: names in lower case, repeated names joined with ", "
 * as Headers joins them. A plain object (the Graph SDK's) is copied as it is rather than through
 * a `Headers`, whose validation walks every character of a bearer token in JavaScript; node:http
 * still refuses a name or value it may not send (a line break, say) before anything goes out.
 */
export function headerRecord(init: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    record[key] = record[key] === undefined ? value : `${record[key]}, ${value}`;
  };
  if (init instanceof Headers) {
    init.forEach((value, name) => { record[name] = value; });
  } else if (init && typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of init as Iterable<[string, string]>) { add(name, String(value)); }
  } else if (init) {
    for (const name of Object.keys(init)) {
      const value = (init as Record<string, unknown>)[name];
      if (value !== undefined) { add(name, String(value)); }
    }
  }
  return record;
}

/** The request body as bytes; Content-Type defaults as fetch's do (text for a string, the Blob's type, form encoding). */
async function bodyBytes(body: RequestInit['body'], headers: Record<string, string>): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) {
    return undefined;
  }
  if (typeof body === 'string') {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    return Buffer.from(body, 'utf8');
  }
  if (body instanceof ArrayBuffer) {
    return new Uint8Array(body);
  }
  if (ArrayBuffer.isView(body)) {
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
  // Blob, FormData, URLSearchParams, a stream: read as fetch would, with the type it would send.
  const asRequest = new Request('https://body.invalid/', { method: 'POST', body, duplex: 'half' } as RequestInit);
  const type = asRequest.headers.get('Content-Type');
  if (type) { headers['content-type'] ??= type; }
  return new Uint8Array(await asRequest.arrayBuffer());
}
