/**
 * Microsoft Graph access for one tool call: a `@microsoft/microsoft-graph-client` whose auth
 * provider asks the broker for that tool's scopes on every request, one retry after a 401
 * (claims challenge or stale token), and bounded retries that honour `Retry-After`. The last
 * link checks every hop before it goes out (a token only over https to the configured host,
 * redirects elsewhere only for file downloads and without the token) and caps every answer's
 * body; every query value is percent-encoded.
 */
import {
  AuthenticationHandler, AuthenticationProvider, Client, RetryHandler, RetryHandlerOptions, TelemetryHandler,
} from '@microsoft/microsoft-graph-client';
import { hostnameOf } from '../../shared/endpoints';
import { TokenSource } from '../brokerClient';
import { UnauthorizedHandler } from './unauthorizedHandler';
import { raiseInChain } from './graphErrors';
import { GuardedFetchHandler } from './guardedFetch';
import { HostGuard } from './hostGuard';
import { encodeQueryValues } from './queryEncoding';

export interface RetryPolicy {
  /** Base delay in seconds between retries without `Retry-After`. */
  readonly delaySeconds: number;
  readonly maxRetries: number;
  /** A `Retry-After` longer than this ends the call with an error instead of waiting. */
  readonly maxRetryAfterSeconds: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { delaySeconds: 1, maxRetries: 3, maxRetryAfterSeconds: 30 };

/** A Graph request that takes longer than this is abandoned. */
export const GRAPH_REQUEST_TIMEOUT_MS = 30_000;

export interface GraphAccess {
  readonly endpoint: string;
  readonly tokens: TokenSource;
  readonly retry?: RetryPolicy;
  /** Overrides GRAPH_REQUEST_TIMEOUT_MS (tests use a short one). */
  readonly timeoutMs?: number;
}

export interface ClientOptions {
  /**
   * The calls create or change data. Only 429 is retried then: after a 503 or 504 the change
   * may have happened, and repeating it could, say, send a mail twice.
   */
  readonly nonIdempotent?: boolean;
  /** Path segment after the base URL: `v1.0` for Graph, empty for Azure Resource Manager. */
  readonly defaultVersion?: string;
}

/** A Graph client that authenticates as `tool` with exactly `scopes`. */
export function createGraphClient(access: GraphAccess, tool: string, scopes: readonly string[], options: ClientOptions = {}): Client {
  const authProvider: AuthenticationProvider = {
    getAccessToken: async () => (await access.tokens.getToken(tool, scopes).catch(raiseInChain)).accessToken,
  };
  const policy = access.retry ?? DEFAULT_RETRY_POLICY;
  return encodeQueryValues(Client.initWithMiddleware({
    baseUrl: access.endpoint,
    defaultVersion: options.defaultVersion ?? 'v1.0',
    // Without this the client would send no token to a sovereign, proxy or test endpoint.
    customHosts: new Set([hostnameOf(access.endpoint)]),
    middleware: [
      new HostGuard(access.endpoint),
      new AuthenticationHandler(authProvider),
      new UnauthorizedHandler(async retry => (await access.tokens.getToken(tool, scopes, retry.wwwAuthenticate ? retry : { forceRefresh: true }).catch(raiseInChain)).accessToken),
      new RetryHandler(new RetryHandlerOptions(policy.delaySeconds, policy.maxRetries, boundedRetry(policy, options.nonIdempotent ?? false))),
      new TelemetryHandler(),
      // Redirects are followed inside, where each hop is checked right before it is sent.
      new GuardedFetchHandler(access.endpoint),
    ],
  }));
}

/** Retry unless the server asks us to wait longer than the policy allows, or the call must not repeat. */
function boundedRetry(policy: RetryPolicy, nonIdempotent: boolean) {
  return (_delay: number, _attempt: number, _request: unknown, _options: unknown, response: Response): boolean => {
    if (nonIdempotent && response.status !== 429) {
      return false;
    }
    const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'));
    return retryAfter === undefined || retryAfter <= policy.maxRetryAfterSeconds;
  };
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** The signal for one Graph request: the caller's cancellation or our timeout, whichever first. */
export function requestSignal(callerSignal: AbortSignal | undefined, access: Pick<GraphAccess, 'timeoutMs'>): AbortSignal {
  const timeout = AbortSignal.timeout(access.timeoutMs ?? GRAPH_REQUEST_TIMEOUT_MS);
  return callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
}
