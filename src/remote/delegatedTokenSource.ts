/**
 * The remote server's `TokenSource`: Graph and ARM tokens for the caller of the request, for
 * exactly the scopes the tool declares, obtained by an exchange (On-Behalf-Of in Entra mode, the
 * user's stored Entra session in proxy mode). Tokens are cached per user and scope set (never
 * shared across users) and renewed shortly before expiry; concurrent first calls of one user with
 * one scope set share one exchange.
 */
import { parseBearerChallenge, validateClaims } from '../shared/claimsChallenge';
import { CloudDescription, qualifyScopeForCloud } from '../shared/clouds';
import { GetTokenResult, StatusResult } from '../shared/protocol';
import { ARM_DEFAULT_SCOPE, ToolSelection, allowedScopesFor } from '../shared/toolCatalogue';
import { TokenRequestOptions, TokenSource } from '../server/brokerClient';
import { ToolError } from '../server/toolError';
import { CallContext, currentCall } from './callerContext';
import { SharedTokens } from './fleet/sharedTokens';

/** Gets a token for the caller: the only part that differs between the modes. */
export type TokenExchange = (call: CallContext, scopes: string[], claims: string | undefined) => Promise<{ accessToken: string; expiresOn: number }>;

export interface DelegatedOptions {
  readonly exchange: TokenExchange;
  /** The configured tenant, for auth_status. */
  readonly tenantId: string;
  readonly cloud: CloudDescription;
  readonly armEndpoint: string;
  readonly tools: ToolSelection;
  /** Renew a cached token when it has less than this left. */
  readonly refreshMarginMs?: number;
  /** Most cached tokens kept (least recently used go first). */
  readonly maxCachedTokens?: number;
  readonly now?: () => number;
  /** The fleet's cache (Redis): shared by every replica; when it fails, this replica's own cache serves. */
  readonly shared?: SharedTokens;
  /** Told when the shared cache failed (the server reports itself degraded). */
  readonly onSharedFailure?: (error: Error) => void;
  /** How long a replica waits for another one's exchange before doing its own. */
  readonly sharedLockMs?: number;
}

interface CachedToken {
  readonly accessToken: string;
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

/** What the operator sees in metrics and tests assert on. */
export interface ExchangeStatistics {
  exchanges: number;
  cacheHits: number;
  failures: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
const DEFAULT_MAX_CACHED_TOKENS = 100_000;
const DEFAULT_SHARED_LOCK_MS = 5_000;
const SHARED_POLL_MS = 50;

export class DelegatedTokenSource implements TokenSource {
  readonly statistics: ExchangeStatistics = { exchanges: 0, cacheHits: 0, failures: 0 };
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;
  /** The last shared-cache operation failed: do not wait for other replicas through it. */
  private sharedFailed = false;

  constructor(private readonly options: DelegatedOptions) {
    this.now = options.now ?? Date.now;
  }

  async getToken(tool: string, scopes: readonly string[], request: TokenRequestOptions = {}): Promise<GetTokenResult> {
    const call = requireCall();
    const requested = this.scopesToRequest(tool, scopes);
    const key = cacheKey(call, requested);
    const claims = request.wwwAuthenticate ? claimsFrom(request.wwwAuthenticate) : undefined;
    const cached = this.cache.get(key);
    if (cached && !request.forceRefresh && !claims && cached.expiresOn - this.now() > (this.options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS)) {
      this.statistics.cacheHits++;
      this.touch(key, cached);
      return this.result(call, cached);
    }
    return this.result(call, await this.exchangeOnce(key, call, requested, claims));
  }

  async status(): Promise<StatusResult> {
    const call = requireCall();
    const prefix = cacheKey(call, []);
    const granted = new Set<string>();
    for (const [key, token] of this.cache) {
      if (key.startsWith(prefix) && token.expiresOn > this.now()) {
        token.scopes.forEach(scope => granted.add(scope));
      }
    }
    return {
      signedIn: true,
      account: call.caller.upn ?? call.caller.oid,
      tenantId: call.caller.tid,
      tenant: this.options.tenantId,
      cloud: this.options.cloud.label,
      grantedScopes: [...granted].sort(),
    };
  }


  /** Exactly the tool's declared scopes, as Entra names them in this cloud; ARM as `<arm>/user_impersonation`. */
  private scopesToRequest(tool: string, scopes: readonly string[]): string[] {
    const allowed = new Set(allowedScopesFor(tool, [], this.options.tools).map(scope => scope.toLowerCase()));
    const refused = scopes.filter(scope => !allowed.has(scope.toLowerCase()));
    if (refused.length > 0 || scopes.length === 0) {
      throw new ToolError('ScopeNotAllowed', `The tool ${tool} may not obtain ${refused.join(' ') || 'a token without scopes'}: ` +
        'each tool gets only the permissions it declares.');
    }
    return [...new Set(scopes.map(scope => scope === ARM_DEFAULT_SCOPE
      ? `${this.options.armEndpoint}/user_impersonation`
      : qualifyScopeForCloud(scope, this.options.cloud)))];
  }

  /** One exchange per user and scope set at a time: later callers wait for the first. */
  private exchangeOnce(key: string, call: CallContext, scopes: string[], claims: string | undefined): Promise<CachedToken> {
    const pending = this.inFlight.get(key);
    if (pending && !claims) {
      return pending;
    }
    const exchange = this.fleetExchange(key, call, scopes, claims).then(token => {
      this.touch(key, token);
      return token;
    }).finally(() => {
      if (this.inFlight.get(key) === exchange) { this.inFlight.delete(key); }
    });
    this.inFlight.set(key, exchange);
    return exchange;
  }

  /**
   * With a shared cache: a token another replica got is used; otherwise one replica exchanges
   * under a short lock while the others wait for its result. A failing shared cache costs an
   * extra exchange, never an error.
   */
  private async fleetExchange(key: string, call: CallContext, scopes: string[], claims: string | undefined): Promise<CachedToken> {
    const shared = this.options.shared;
    if (!shared || claims) {
      return this.exchange(call, scopes, claims);
    }
    const found = await this.sharedFresh(key);
    if (found) {
      return found;
    }
    const lockMs = this.options.sharedLockMs ?? DEFAULT_SHARED_LOCK_MS;
    const holder = await this.shielded(() => shared.lock(key, lockMs), 'lock');
    if (holder === undefined && !this.sharedFailed) {
      const waited = await this.waitForShared(key, lockMs);
      if (waited) {
        return waited;
      }
    }
    try {
      // Another replica may have finished its exchange between our look and our lock.
      const meanwhile = holder ? await this.sharedFresh(key) : undefined;
      if (meanwhile) {
        return meanwhile;
      }
      const token = await this.exchange(call, scopes, claims);
      await this.shielded(() => shared.set(key, token, token.expiresOn - this.now() - (this.options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS)), 'set');
      return token;
    } finally {
      if (holder) { await this.shielded(() => shared.unlock(key, holder), 'unlock'); }
    }
  }

  private async sharedFresh(key: string): Promise<CachedToken | undefined> {
    const token = await this.shielded(() => (this.options.shared as SharedTokens).get(key), 'get');
    if (token && token.expiresOn - this.now() > (this.options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS)) {
      this.statistics.cacheHits++;
      return token;
    }
    return undefined;
  }

  private async waitForShared(key: string, lockMs: number): Promise<CachedToken | undefined> {
    // Real time, whatever clock the tokens are judged by.
    const deadline = Date.now() + lockMs;
    while (Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, SHARED_POLL_MS));
      const token = await this.sharedFresh(key);
      if (token || this.sharedFailed) {
        return token;
      }
    }
    return undefined;
  }

  /** A shared-cache operation whose failure only degrades the server. */
  private async shielded<T>(operation: () => Promise<T>, what: string): Promise<T | undefined> {
    try {
      const result = await operation();
      this.sharedFailed = false;
      return result;
    } catch (error) {
      this.sharedFailed = true;
      this.options.onSharedFailure?.(new Error(`shared token cache ${what}: ${(error as Error).message}`));
      return undefined;
    }
  }

  private async exchange(call: CallContext, scopes: string[], claims: string | undefined): Promise<CachedToken> {
    this.statistics.exchanges++;
    try {
      const { accessToken, expiresOn } = await this.options.exchange(call, scopes, claims);
      // The scopes as asked: what the user granted this server, in the names the tools declare.
      return { accessToken, expiresOn, scopes };
    } catch (error) {
      this.statistics.failures++;
      throw error;
    }
  }

  private touch(key: string, token: CachedToken): void {
    this.cache.delete(key);
    this.cache.set(key, token);
    const limit = this.options.maxCachedTokens ?? DEFAULT_MAX_CACHED_TOKENS;
    while (this.cache.size > limit) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }

  private result(call: CallContext, token: CachedToken): GetTokenResult {
    return { accessToken: token.accessToken, expiresOn: token.expiresOn, account: call.caller.upn ?? call.caller.oid, tenantId: call.caller.tid };
  }
}

function requireCall(): CallContext {
  const call = currentCall();
  if (!call) {
    throw new ToolError('NotSignedIn', 'No signed-in caller for this request: the server only serves requests with a validated token.');
  }
  return call;
}

/** Per user (tenant and object id) and scope set; scope names compare case-insensitively. */
function cacheKey(call: CallContext, scopes: readonly string[]): string {
  return `${call.caller.tid}\u0000${call.caller.oid}\u0000${scopes.map(scope => scope.toLowerCase()).sort().join(' ')}`;
}

/** The claims a resource's challenge asks for, validated; undefined when it carries none usable. */
function claimsFrom(wwwAuthenticate: string): string | undefined {
  const claims = parseBearerChallenge(wwwAuthenticate)?.get('claims');
  return claims === undefined ? undefined : validateClaims(claims);
}
