/**
 * The bridge's only way onto the network: the fetch the SDK's Streamable HTTP client transport
 * is given. Every request to the remote MCP server gets its token here, from the broker, at the
 * moment it is sent, so a token is never kept past its life and never chosen by the bridge (the
 * broker uses the scope the extension discovered for this URL). Beyond that:
 * - the token goes only to https on the configured server's origin, and redirects are refused
 *   (a redirect would carry the request, or the next one, somewhere the user did not configure);
 * - a 401 gets one second chance: a claims challenge is answered with a token for that challenge,
 *   anything else with a token fetched past the broker's cache; a second 401 is an error that
 *   quotes the server's reason;
 * - 429 and 503 are retried with exponential backoff, honouring `Retry-After` up to a bound;
 * - failures are ToolErrors whose message says what to do.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { parseBearerChallenge } from '../../shared/claimsChallenge';
import { TokenRequestOptions, RemoteTokenSource } from '../brokerClient';
import { httpsFetch } from '../graph/httpsFetch';
import { isClaimsChallenge } from '../graph/unauthorizedHandler';
import { retryAfterSeconds } from '../graph/graphClient';
import { networkCause } from '../../shared/networkCause';
import { ToolError, scrubSecrets } from '../toolError';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface RemoteFetchOptions {
  /** The remote MCP endpoint exactly as configured. */
  readonly server: string;
  readonly tokens: RemoteTokenSource;
  readonly retry?: BusyRetryPolicy;
  /** The network (tests may count requests); defaults to httpsFetch (kept-alive, the environment's proxy). */
  readonly fetch?: FetchLike;
}

export interface BusyRetryPolicy {
  /** Delay before the first retry without `Retry-After`; doubles each time. */
  readonly baseDelayMs: number;
  readonly maxRetries: number;
  /** A `Retry-After` longer than this ends the call with an error instead of waiting. */
  readonly maxRetryAfterSeconds: number;
}

export const DEFAULT_BUSY_RETRY: BusyRetryPolicy = { baseDelayMs: 1_000, maxRetries: 3, maxRetryAfterSeconds: 30 };

const BUSY_STATUSES = new Set([429, 503]);
const MAX_REASON_CHARS = 400;

export function remoteFetch(options: RemoteFetchOptions): FetchLike {
  const origin = new URL(options.server).origin;
  const send = options.fetch ?? httpsFetch;
  const policy = options.retry ?? DEFAULT_BUSY_RETRY;

  return async (input, init = {}) => {
    const url = new URL(input);
    if (url.protocol !== 'https:' || url.origin !== origin) {
      throw new ToolError('RemoteError', `Refused to send your sign-in to ${url.protocol}//${url.host}: it only goes to ${origin} over https.`);
    }
    let tokenRequest: TokenRequestOptions = {};
    let renewed = false;
    for (let busyRetries = 0; ;) {
      const { accessToken } = await options.tokens.getRemoteToken(options.server, tokenRequest);
      const headers = new Headers(init.headers);
      headers.set('Authorization', `Bearer ${accessToken}`);
      const response = await reach(send, url, { ...init, headers, redirect: 'manual' }, origin);
      if (response.status >= 300 && response.status < 400) {
        await discard(response);
        throw new ToolError('RemoteError', `${origin} answered with a redirect (${response.status}); it was not followed, because your sign-in ` +
          'is only sent to the URL in "entraMcp.remoteServers". If the server moved, update that setting.');
      }
      if (response.status === 401) {
        const challenge = response.headers.get('WWW-Authenticate');
        if (renewed) {
          throw new ToolError('RemoteError', `${origin} refused your sign-in twice (401): ${await reasonOf(response, challenge)}. ` +
            'Sign out and in again ("Entra MCP: Sign Out"), or ask the server\'s administrator to check its app registration.');
        }
        await discard(response);
        renewed = true;
        tokenRequest = isClaimsChallenge(401, challenge) ? { wwwAuthenticate: challenge } : { forceRefresh: true };
        continue;
      }
      if (response.status === 403) {
        throw new ToolError('RemoteError', `${origin} refused the request (403): ${await reasonOf(response, response.headers.get('WWW-Authenticate'))}`);
      }
      if (BUSY_STATUSES.has(response.status)) {
        const wait = busyDelayMs(response, busyRetries, policy);
        if (wait === undefined) {
          throw new ToolError('RemoteError', `${origin} is busy (${response.status}): ${await reasonOf(response, null)}. Try again in a minute.`);
        }
        await discard(response);
        busyRetries++;
        await delay(wait, undefined, { signal: init.signal ?? undefined });
        continue;
      }
      return response;
    }
  };
}

/** How long to wait before retrying a busy answer, or undefined when retrying is not worth it. */
function busyDelayMs(response: Response, retriesSoFar: number, policy: BusyRetryPolicy): number | undefined {
  if (retriesSoFar >= policy.maxRetries) {
    return undefined;
  }
  const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
  if (retryAfter !== undefined) {
    return retryAfter <= policy.maxRetryAfterSeconds ? retryAfter * 1000 : undefined;
  }
  return policy.baseDelayMs * 2 ** retriesSoFar;
}

async function reach(send: FetchLike, url: URL, init: RequestInit, origin: string): Promise<Response> {
  try {
    return await send(url, init);
  } catch (error) {
    if (init.signal?.aborted) {
      throw error;
    }
    throw new ToolError('NetworkError', `The remote server ${origin} is not reachable (${scrubSecrets(networkCause(error)).slice(0, 200)}). ` +
      'Check your network connection and VPN, or ask its administrator whether it is up.');
  }
}

/**
 * The server's own words for a refusal: `error_description` from its challenge or OAuth-style
 * body, or the message of a JSON-RPC error body. Scrubbed and cut short: it is shown to people.
 */
async function reasonOf(response: Response, challenge: string | null): Promise<string> {
  const fromChallenge = challenge ? parseBearerChallenge(challenge)?.get('error_description') : undefined;
  let fromBody: string | undefined;
  try {
    const body = await response.json() as { error?: unknown; error_description?: unknown };
    const error = body.error as { message?: unknown } | string | undefined;
    fromBody = typeof body.error_description === 'string' ? body.error_description
      : typeof error === 'object' && typeof error?.message === 'string' ? error.message
        : typeof error === 'string' ? error : undefined;
  } catch {
    // not JSON: the status says enough
  }
  const reason = fromChallenge || fromBody || `HTTP ${response.status}`;
  return scrubSecrets(reason).slice(0, MAX_REASON_CHARS).replace(/[.\s]+$/, '');
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
