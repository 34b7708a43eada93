/**
 * Validates the access tokens clients present: Entra v2 tokens for *our* API, RS256-signed by a
 * key from the tenant's JWKS, issued by an allowed tenant, within their lifetime, carrying our
 * delegated scope. Every refusal says what the person (or the administrator) has to change.
 */
import { JWTPayload, createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { httpsFetch } from '../server/graph/httpsFetch';
import { digest } from './proxy/sealedBox';

/** The caller, as established from a validated token. */
export interface Caller {
  readonly oid: string;
  readonly tid: string;
  readonly upn?: string;
  readonly name?: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** The client application that obtained the token (`azp`). */
  readonly clientApp?: string;
  /** Expiry of the incoming token, seconds since the epoch. */
  readonly expiresAt: number;
}

export type AuthErrorCode = 'invalid_token' | 'insufficient_scope';

/** A refused token: the HTTP status, the RFC 6750 error, a message to act on and the claim that failed. */
export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly error: AuthErrorCode,
    message: string,
    readonly claim: string,
  ) {
    super(message);
  }
}

export interface ValidatorOptions {
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly allowedTenants: readonly string[];
  readonly clientId: string;
  readonly scope: string;
  /** Clock skew tolerated on exp/nbf. */
  readonly clockToleranceSeconds?: number;
  /** Minimum time between JWKS fetches triggered by unknown key ids. */
  readonly jwksCooldownMs?: number;
  /** How often the JWKS is refreshed in the background (keys roll over). */
  readonly jwksRefreshMs?: number;
}

const MAX_SKEW_SECONDS = 300;
const MAX_VALIDATED_TOKENS = 50_000;
const NETWORK_TIMEOUT_MS = 5_000;

export class EntraTokenValidator {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly audiences: string[];
  private readonly validated = new Map<string, Caller>();

  constructor(private readonly options: ValidatorOptions) {
    this.audiences = [options.clientId, `api://${options.clientId}`];
  }

  /** Whether signing keys are loaded: `/readyz`, and the gate in front of every MCP request. */
  get ready(): boolean {
    return this.jwks?.jwks() !== undefined;
  }

  /** The scope clients request: the delegated scope of our API. */
  get scope(): string {
    return `api://${this.options.clientId}/${this.options.scope}`;
  }

  /** The home tenant's issuer: what the protected resource metadata names as authorization server. */
  get authorizationServer(): string {
    return issuerFor(this.options.authorityHost, this.options.tenantId);
  }

  /**
   * Discovers the JWKS from the tenant's OpenID configuration and loads the keys; on failure it
   * keeps retrying in the background (the server answers 503 until then).
   */
  async start(onError: (error: Error) => void): Promise<void> {
    for (let delayMs = 1_000; ; delayMs = Math.min(delayMs * 2, 30_000)) {
      try {
        await this.loadKeys();
        this.refreshTimer = setInterval(() => { void this.jwks?.reload().catch(onError); }, this.options.jwksRefreshMs ?? 3_600_000);
        this.refreshTimer.unref();
        return;
      } catch (error) {
        onError(error as Error);
        await new Promise(resolve => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  stop(): void {
    clearInterval(this.refreshTimer);
  }

  private async loadKeys(): Promise<void> {
    const discoveryUrl = `${this.authorizationServer}/.well-known/openid-configuration`;
    const response = await httpsFetch(discoveryUrl, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) });
    if (!response.ok) {
      throw new Error(`OpenID discovery at ${discoveryUrl} answered ${response.status}`);
    }
    const document = await response.json() as { jwks_uri?: unknown; issuer?: unknown };
    if (typeof document.jwks_uri !== 'string' || !document.jwks_uri.startsWith('https://')) {
      throw new Error(`OpenID discovery at ${discoveryUrl} names no https jwks_uri`);
    }
    const jwks = createRemoteJWKSet(new URL(document.jwks_uri), {
      timeoutDuration: NETWORK_TIMEOUT_MS,
      cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      // Keys stay usable while Entra's JWKS is unreachable; the background refresh and unknown
      // key ids fetch new ones.
      cacheMaxAge: Infinity,
      // The same way out as every other request of the server: kept-alive, the environment's proxy.
      [customFetch]: httpsFetch,
    });
    await jwks.reload();
    this.jwks = jwks;
  }

  /** Validates a bearer token, returning the caller or throwing an AuthFailure. */
  async validate(token: string): Promise<Caller> {
    if (!this.jwks) {
      throw new Error('token validator used before its keys were loaded');
    }
    const key = digest(token);
    const known = this.validated.get(key);
    if (known && known.expiresAt * 1000 > Date.now()) {
      return known;
    }
    const { header, claims } = readUnverified(token);
    this.refuseByShape(header.alg, claims);
    const payload = await this.verify(token, String(claims.tid));
    const caller = callerFrom(payload, this.options.scope);
    this.remember(key, caller);
    return caller;
  }

  /**
   * A client sends the same token with every request for up to an hour: its signature is checked
   * once, and the caller it names is kept (by digest, never the token) until the token expires.
   */
  private remember(key: string, caller: Caller): void {
    this.validated.set(key, caller);
    if (this.validated.size > MAX_VALIDATED_TOKENS) {
      this.validated.delete(this.validated.keys().next().value as string);
    }
  }

  /** Checks that need no key, each with its own message: refused algorithms, v1 tokens, foreign tenants. */
  private refuseByShape(alg: string | undefined, claims: JWTPayload): void {
    if (!alg || alg === 'none') {
      throw invalid('The token is unsigned (alg "none"); only tokens signed by Entra ID (RS256) are accepted.', 'alg');
    }
    if (/^HS/i.test(alg)) {
      throw invalid(`The token is signed with ${alg} (a shared-secret HMAC): refused. Entra ID signs access tokens with RS256.`, 'alg');
    }
    if (alg !== 'RS256') {
      throw invalid(`The token's algorithm ${alg} is refused: only RS256, as Entra ID signs access tokens.`, 'alg');
    }
    if (claims.ver === '1.0' || (typeof claims.iss === 'string' && claims.iss.startsWith('https://sts.'))) {
      throw invalid('This is a v1.0 access token. In the server\'s app registration (Manifest) set "requestedAccessTokenVersion": 2 ' +
        '(api.requestedAccessTokenVersion), then sign in again to get a v2.0 token.', 'ver');
    }
    if (claims.cnf !== undefined) {
      // A token bound to a key proves something only with a proof of that key (DPoP, a signed
      // request); as a plain bearer token, whoever copied it could use it. Nothing here checks
      // such proofs, so the binding is honoured by refusing the token.
      throw invalid('The token is bound to a key (a proof-of-possession token, "cnf" claim); this server accepts plain bearer ' +
        'tokens only. Ask your client for an ordinary access token for this server.', 'cnf');
    }
    const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
    if (!this.options.allowedTenants.includes(tid)) {
      throw invalid(`Tokens from tenant ${tid || '(none)'} are not accepted by this server. Sign in with an account of an ` +
        'allowed tenant, or ask the operator to add the tenant to ENTRA_MCP_ALLOWED_TENANTS.', 'tid');
    }
  }

  private async verify(token: string, tid: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.jwks as NonNullable<typeof this.jwks>, {
        algorithms: ['RS256'],
        issuer: issuerFor(this.options.authorityHost, tid.toLowerCase()),
        audience: this.audiences,
        clockTolerance: Math.min(this.options.clockToleranceSeconds ?? MAX_SKEW_SECONDS, MAX_SKEW_SECONDS),
        requiredClaims: ['exp', 'iat', 'oid'],
      });
      return payload;
    } catch (error) {
      throw verificationFailure(error, this.options.clientId);
    }
  }
}

function issuerFor(authorityHost: string, tenantId: string): string {
  return `${authorityHost}/${tenantId}/v2.0`;
}

function readUnverified(token: string): { header: { alg?: string }; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    throw invalid('The bearer value is not a JWT access token. Sign in again so your client obtains a token for this server.', 'format');
  }
}

function verificationFailure(error: unknown, clientId: string): AuthFailure {
  if (error instanceof errors.JWTExpired) {
    return invalid('The token has expired. Your client should refresh it; sign in again if it cannot.', 'exp');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'aud'
      ? invalid(`The token is for another audience; this server accepts only tokens for api://${clientId} (its own app registration).`, 'aud')
      : invalid(`The token's "${error.claim}" claim is not valid (${error.reason}).`, error.claim);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalid('The token is signed with a key this tenant does not publish.', 'kid');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid('The token\'s signature is not valid.', 'signature');
  }
  if (error instanceof errors.JWKSTimeout || (error instanceof Error && error.name === 'TypeError')) {
    return invalid('The token could not be checked: Entra ID\'s signing keys were unreachable. Try again shortly.', 'kid');
  }
  return invalid(`The token is not valid (${error instanceof Error ? error.message : 'unknown reason'}).`, 'token');
}

/** Builds the caller from a verified payload: a delegated token with our scope and a user. */
function callerFrom(payload: JWTPayload, requiredScope: string): Caller {
  const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
  if (scopes.length === 0) {
    throw new AuthFailure(403, 'insufficient_scope', 'This is an app-only token (no signed-in user, no "scp" claim). ' +
      'The server acts On-Behalf-Of a signed-in user: sign in as a user and request the delegated scope ' + `${requiredScope}.`, 'scp');
  }
  if (!scopes.includes(requiredScope)) {
    throw new AuthFailure(403, 'insufficient_scope', `The token lacks the scope ${requiredScope}; request it when signing in ` +
      `(its scope was "${scopes.join(' ')}").`, 'scp');
  }
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  return {
    oid: String(payload.oid),
    tid: String(payload.tid).toLowerCase(),
    upn: stringClaim(payload.upn) ?? stringClaim(payload.preferred_username),
    name: stringClaim(payload.name),
    roles,
    scopes,
    clientApp: stringClaim(payload.azp),
    expiresAt: Number(payload.exp),
  };
}

/** A claim's text, when it is a plausible one. */
export function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

function invalid(message: string, claim: string): AuthFailure {
  return new AuthFailure(401, 'invalid_token', message, claim);
}
