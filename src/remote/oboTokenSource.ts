/**
 * The remote server's `TokenSource`: Graph and ARM tokens obtained On-Behalf-Of the caller with
 * `@azure/msal-node`, for exactly the scopes the tool declares. Tokens are cached per user and
 * scope set (never shared across users) and renewed shortly before expiry; concurrent first
 * calls of one user with one scope set share one exchange.
 */
import { AuthError, ConfidentialClientApplication, Configuration } from '@azure/msal-node';
import { validateClaims, parseBearerChallenge } from '../shared/claimsChallenge';
import { CloudDescription, qualifyScopeForCloud } from '../shared/clouds';
import { GetTokenResult, StatusResult } from '../shared/protocol';
import { ARM_DEFAULT_SCOPE, ToolSelection, allowedScopesFor } from '../shared/toolCatalogue';
import { TokenRequestOptions, TokenSource } from '../server/brokerClient';
import { ToolError } from '../server/toolError';
import { BoundedNetworkClient } from './boundedNetworkClient';
import { CallContext, currentCall } from './callerContext';
import { CredentialOptions } from './clientCredential';

export interface OboOptions {
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: CredentialOptions;
  readonly cloud: CloudDescription;
  readonly armEndpoint: string;
  readonly tools: ToolSelection;
  /** Renew a cached token when it has less than this left. */
  readonly refreshMarginMs?: number;
  /** Most cached tokens kept (least recently used go first). */
  readonly maxCachedTokens?: number;
  readonly now?: () => number;
}

interface CachedToken {
  readonly accessToken: string;
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

/** What the operator sees in metrics and tests assert on. */
export interface OboStatistics {
  exchanges: number;
  cacheHits: number;
  failures: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
const DEFAULT_MAX_CACHED_TOKENS = 100_000;

export class OboTokenSource implements TokenSource {
  readonly statistics: OboStatistics = { exchanges: 0, cacheHits: 0, failures: 0 };
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<CachedToken>>();
  private readonly network = new BoundedNetworkClient();
  private readonly now: () => number;

  constructor(private readonly options: OboOptions) {
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
    const exchange = this.exchange(call, scopes, claims).then(token => {
      this.touch(key, token);
      return token;
    }).finally(() => {
      if (this.inFlight.get(key) === exchange) { this.inFlight.delete(key); }
    });
    this.inFlight.set(key, exchange);
    return exchange;
  }

  private async exchange(call: CallContext, scopes: string[], claims: string | undefined): Promise<CachedToken> {
    this.statistics.exchanges++;
    try {
      // One application per exchange: MSAL's own cache would otherwise hold every user's tokens
      // in one unbounded store; ours is per user, bounded, and the only one read.
      const result = await this.application(call.caller.tid).acquireTokenOnBehalfOf({
        oboAssertion: call.assertion, scopes, skipCache: true, ...(claims ? { claims } : {}),
      });
      if (!result?.accessToken) {
        throw new ToolError('TokenUnavailable', 'Entra ID returned no token for this tool. Try again; if it persists, tell the server\'s operator.');
      }
      // The scopes as asked: what the user granted this server, in the names the tools declare.
      return { accessToken: result.accessToken, expiresOn: result.expiresOn?.getTime() ?? this.now() + 3_600_000, scopes };
    } catch (error) {
      this.statistics.failures++;
      throw this.toToolError(error, call, scopes);
    }
  }

  private application(tenantId: string): ConfidentialClientApplication {
    const { authorityHost, clientId, credential } = this.options;
    const authority = `${authorityHost}/${tenantId}`;
    const host = new URL(authorityHost).host;
    const configuration: Configuration = {
      auth: {
        clientId,
        authority,
        ...credential,
        // The authority's endpoints are given, so MSAL asks no instance discovery of Microsoft's:
        // sovereign, custom and test authorities work the same way.
        knownAuthorities: [host],
        cloudDiscoveryMetadata: JSON.stringify({
          tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
        }),
        authorityMetadata: JSON.stringify(authorityMetadata(authority)),
      },
      system: { networkClient: this.network },
    };
    return new ConfidentialClientApplication(configuration);
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

  /** Entra's answer as something the user (or their administrator) can act on; never the raw response. */
  private toToolError(error: unknown, call: CallContext, scopes: readonly string[]): ToolError {
    if (error instanceof ToolError) {
      return error;
    }
    const text = error instanceof AuthError ? `${error.errorCode} ${error.subError} ${error.errorMessage}` : String((error as Error)?.message ?? error);
    const code = /AADSTS(\d+)/.exec(text)?.[1];
    if (code === '65001' || /consent_required/.test(text)) {
      return new ToolError('ScopeNotAllowed', `Your organization has not consented to this server using ${scopes.join(', ')} on your behalf (AADSTS65001). ` +
        `An administrator can grant consent at ${this.options.authorityHost}/${call.caller.tid}/adminconsent?client_id=${this.options.clientId}`);
    }
    if (/interaction_required|insufficient_claims|AADSTS(50076|50079|50158|50072|53003)/.test(text)) {
      return new ToolError('NotSignedIn', 'Entra ID needs you to sign in again for this (multi-factor authentication or a Conditional Access ' +
        'policy). Sign out of this server in your MCP client and sign in again, then retry.');
    }
    if (code === '500133' || code === '50013' || /invalid_grant/.test(text)) {
      return new ToolError('NotSignedIn', 'Your sign-in to this server is no longer accepted by Entra ID (expired or revoked). Sign in again in your MCP client.');
    }
    if (/invalid_client|AADSTS(7000215|700016|700027|7000222|70021)/.test(text)) {
      return new ToolError('TokenUnavailable', `The server's own credential was refused by Entra ID${code ? ` (AADSTS${code})` : ''}. ` +
        'Tell the server\'s operator: its ENTRA_MCP_CLIENT_* credential or federated credential needs fixing.');
    }
    if (error instanceof AuthError && error.errorCode !== 'post_request_failed' && !/network|timeout|fetch/i.test(text)) {
      return new ToolError('TokenUnavailable', `Entra ID refused a token for this tool${code ? ` (AADSTS${code})` : ''}. Try again; if it persists, tell the server's operator.`);
    }
    return new ToolError('NetworkError', 'Entra ID could not be reached to get a token for this tool. Try again in a moment.');
  }
}

function requireCall(): CallContext {
  const call = currentCall();
  if (!call) {
    throw new ToolError('NotSignedIn', 'No signed-in caller for this request: the server only serves requests with a validated Entra token.');
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

function authorityMetadata(authority: string): Record<string, unknown> {
  return {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid'],
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
  };
}
