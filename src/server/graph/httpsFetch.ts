/**
 * `fetch` for the servers' other outgoing calls (Entra ID's token endpoint, discovery and JWKS,
 * client metadata documents, the bridge's remote MCP server), built on httpsSend so that every
 * request the server processes make goes out the same way: https only, kept-alive connections,
 * the proxy the environment names (proxyAgents). Redirects are never followed: `redirect:
 * 'manual'` returns them, anything else rejects, as none of these endpoints redirects and a
 * followed redirect would carry a credential or an assertion somewhere else.
 * The answer's body streams (the bridge reads server-sent events from it).
 */
import { Readable } from 'node:stream';
import { REDIRECT_STATUSES, httpsSend, isBodiless } from './httpsSend';

export async function httpsFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (input instanceof Request) {
    throw new TypeError('httpsFetch takes a URL and options, not a Request');
  }
  const url = new URL(input);
  const answer = await httpsSend(url, init);
  if (REDIRECT_STATUSES.has(answer.status) && init.redirect !== 'manual') {
    answer.body.resume();
    throw Object.assign(new TypeError(`${url.origin} answered with a redirect (HTTP ${answer.status}); redirects are not followed`), { code: 'EREDIRECT' });
  }
  const body = isBodiless(init.method ?? 'GET', answer.status)
    ? (answer.body.resume(), null)
    : Readable.toWeb(answer.body) as ReadableStream<Uint8Array>;
  return new Response(body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
}
