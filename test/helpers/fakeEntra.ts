/**
 * A local HTTPS fake of Microsoft Entra ID's v2 endpoints that @azure/msal-node talks to for
 * real: OpenID discovery, the signing keys (JWKS, with rollover), and the token endpoint's
 * On-Behalf-Of grant with the three ways a confidential client proves itself (secret,
 * certificate assertion, federated managed-identity assertion). It also mints the access tokens
 * a caller would present to our API, and a plain-HTTP fake of the App Service managed identity
 * endpoint. Claims, documents and error bodies follow the shapes Microsoft documents.
 *
 * For a server that signs users in itself, it also plays the browser's part of Entra: a test
 * registers users (`addUser`, with app roles), says who is signed in (`signInAs`), and
 * `/authorize` answers at once with a redirect carrying an authorization code (PKCE S256). The
 * token endpoint redeems that code and, later, the multi-resource refresh tokens it returns,
 * until `revokeSignIns` kills them as Entra's "revoke sessions" does.
 */
import { createHash, createHmac, generateKeyPairSync, KeyObject, randomBytes, randomUUID, sign, verify, X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { rememberCredential } from './leakWatch';
import { startLocalHttps, stopLocalHttps } from './localHttps';

export interface FakeEntraUser { oid: string; tid: string; upn: string; name: string }

export interface FakeEntraApp {
  /** The remote MCP server's app registration. */
  clientId: string;
  /** Accepted as client_secret. */
  clientSecret?: string;
  /** Public X.509 certificate (PEM): a client_assertion signed by its key is accepted (RS256 + x5t, or PS256 + x5t#S256). */
  certificatePem?: string;
  /** A client_assertion from a managed identity with exactly these iss/sub/aud is accepted. */
  federatedCredential?: { issuer: string; subject: string; audience: string };
  /** Delegated scopes consent exists for; OBO for any other fails with AADSTS65001. Default: all. */
  consentedScopes?: string[];
  /** The registration's (Web platform) redirect URIs: /authorize accepts exactly these, nothing else. */
  redirectUris?: string[];
}

export interface IssueOptions {
  user: FakeEntraUser;
  audience: string;
  scp?: string;
  roles?: string[];
  /** 1.0: iss https://sts.windows.net/<tid>/, aud api://<audience>, appid instead of azp. */
  ver?: '1.0' | '2.0';
  /** No scp, idtyp 'app', roles only, sub = oid = the service principal (user.oid). */
  appOnly?: boolean;
  /** Default 3600; negative = already expired. */
  expiresInSeconds?: number;
  notBeforeOffsetSeconds?: number;
  /** 'none' = unsigned; 'HS256' = signed with a shared secret: both must be refused by a validator. */
  alg?: 'RS256' | 'none' | 'HS256';
  /** Overrides the header kid (e.g. an unknown kid). */
  kid?: string;
  issuer?: string;
  tid?: string;
  extraClaims?: Record<string, unknown>;
}

export interface OboExchange {
  clientId: string;
  tid: string;
  oid: string;
  /** The resource scopes as the client sent them (openid, profile and offline_access left out). */
  scopes: string[];
  credential: 'secret' | 'certificate' | 'assertion';
}

/** One request to /authorize that named a client, whatever came of it. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  /** Every scope as sent, openid and offline_access included: what the user was asked to consent to. */
  scopes: string[];
  /** A code_challenge was sent (see codeChallengeMethod for which kind). */
  hasPkce: boolean;
  codeChallengeMethod?: string;
  state?: string;
  prompt?: string;
  loginHint?: string;
  /** 'code' when a code was issued, else the AADSTS code of the refusal (e.g. 'AADSTS50011'). */
  outcome: string;
}

/** A token issued from an authorization code (codeRedemptions) or a refresh token (refreshGrants). */
export interface UserTokenGrant {
  clientId: string;
  tid: string;
  oid: string;
  /** The resource scopes as the client sent them (openid, profile, email and offline_access left out). */
  scopes: string[];
  credential: 'secret' | 'certificate' | 'assertion';
}

export interface FakeManagedIdentityEndpoint {
  /** Value for IDENTITY_ENDPOINT. */
  endpoint: string;
  /** Value for IDENTITY_HEADER. */
  header: string;
  /** sub and oid of the tokens it issues: configure a federatedCredential's subject with it. */
  principalId: string;
  /** iss of the tokens it issues: configure a federatedCredential's issuer with it. */
  issuer: string;
  stop(): Promise<void>;
}

/** The client application (the MCP client) our API's access tokens were issued to. */
export const FAKE_CALLER_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
/** The managed identity's service principal (sub/oid) and its client id. */
export const FAKE_MANAGED_IDENTITY_PRINCIPAL_ID = '6b3a2a4e-5c8d-4f0e-9a1b-2c3d4e5f6a7b';
export const FAKE_MANAGED_IDENTITY_CLIENT_ID = '1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Scopes that ask for sign-in artefacts, never for a resource's token. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const TOKEN_LIFETIME_SECONDS = 3600;
/** Entra backdates iat/nbf by five minutes to absorb clock skew. */
const BACKDATE_SECONDS = 300;
const DEFAULT_MANAGED_IDENTITY_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const APP_SERVICE_MSI_API_VERSION = '2019-08-01';
const CLOCK_SKEW_SECONDS = 300;
/** Entra's authorization codes live about ten minutes. */
const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
/** A refresh token unused for 90 days dies of inactivity (AADSTS700082). */
const REFRESH_TOKEN_INACTIVITY = '90.00:00:00';
/** What Entra answers when only sign-in scopes were asked: a Graph token for User.Read. */
const SIGN_IN_ONLY_PERMISSION = 'User.Read';
const AUTHORIZATION_CODE_GRANT = 'authorization_code';
const REFRESH_TOKEN_GRANT = 'refresh_token';

interface SigningKey { kid: string; privateKey: KeyObject; publicKey: KeyObject; n: string; e: string }
/** A JSON answer, or an HTML page (html set), or a redirect (location set). */
interface Reply { status: number; body: unknown; headers?: Record<string, string>; html?: string; location?: string }

interface RegisteredUser { user: FakeEntraUser; roles: string[] }

/** What an authorization code stands for, bound to everything the /authorize request named. */
interface IssuedCode {
  clientId: string;
  tenant: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  oid: string;
  nonce: string | undefined;
  expiresAt: number;
  redeemed: boolean;
}

interface IssuedRefreshToken {
  clientId: string;
  oid: string;
  issuedAt: Date;
  /** Set by revokeSignIns: the user's TokensValidFrom moved past this token. */
  revokedAt?: Date;
  /** Set by expireRefreshTokens: as if unused for 90 days. */
  inactive?: boolean;
}
type Claims = Record<string, unknown>;

/** Why a token request is refused, as Entra words it. */
class EntraRefusal extends Error {
  constructor(readonly status: number, readonly error: string, readonly code: number, readonly description: string, readonly extra: Record<string, unknown> = {}) {
    super(description);
  }
}

let joseModule: Promise<typeof Jose> | undefined;
/** jose ships only as an ES module; this CommonJS project loads it on first use. */
function loadJose(): Promise<typeof Jose> {
  return joseModule ??= import('jose');
}

export class FakeEntra {
  readonly oboExchanges: OboExchange[] = [];
  readonly authorizeRequests: AuthorizeRequest[] = [];
  readonly codeRedemptions: UserTokenGrant[] = [];
  readonly refreshGrants: UserTokenGrant[] = [];
  private readonly users = new Map<string, RegisteredUser>();
  private signedInOid: string | undefined;
  private readonly codes = new Map<string, IssuedCode>();
  private readonly refreshTokens = new Map<string, IssuedRefreshToken>();
  private readonly apps: FakeEntraApp[];
  private readonly tenants: string[] | undefined;
  private keys: SigningKey[] = [newSigningKey()];
  private fetchesOfJwks = 0;
  private failure: Reply | undefined;
  /** uti of every resource token issued by a grant (OBO, code, refresh): the only ones verifyResourceToken accepts. */
  private readonly resourceTokenIds = new Set<string>();
  private server: https.Server | undefined;

  /** Keeps the app objects by reference, so a test may set a federatedCredential once the host is known. */
  constructor(options: { apps: FakeEntraApp[]; tenants?: string[] }) {
    this.apps = options.apps;
    this.tenants = options.tenants;
  }

  get authorityHost(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) { throw new Error('fake Entra not started'); }
    return `https://127.0.0.1:${address.port}`;
  }

  get jwksFetches(): number {
    return this.fetchesOfJwks;
  }

  async start(): Promise<string> {
    this.server = await startLocalHttps((req, res) => this.handle(req, res));
    return this.authorityHost;
  }

  async stop(): Promise<void> {
    await stopLocalHttps(this.server);
  }

  /** The v2 issuer of a tenant: `<host>/<tenant>/v2.0`. */
  issuerOf(tenant: string): string {
    return `${this.authorityHost}/${tenant}/v2.0`;
  }

  /** The token endpoint of a tenant, the audience a certificate client assertion must name. */
  tokenEndpointOf(tenant: string): string {
    return `${this.authorityHost}/${tenant}/oauth2/v2.0/token`;
  }

  /** The kid tokens are signed with now. */
  get currentKid(): string {
    return this.keys[0].kid;
  }

  issueAccessToken(options: IssueOptions): string {
    const claims = accessTokenClaims(options, this.issuerOf(options.user.tid));
    const token = this.signToken(claims, options.alg ?? 'RS256', options.kid);
    rememberCredential(token);
    return token;
  }

  rotateKeys(): void {
    // During a rollover Entra publishes the new key next to the one it replaces.
    this.keys = [newSigningKey(), this.keys[0]];
  }

  dropOldKeys(): void {
    this.keys = [this.keys[0]];
  }

  failTokenEndpoint(reply?: { status: number; body: unknown }): void {
    this.failure = reply ?? entraErrorReply(new EntraRefusal(503, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'), undefined);
  }

  clearFailures(): void {
    this.failure = undefined;
  }

  // ---- Users and sign-in ----

  /** A user who can sign in; roles are the app roles assigned to them on the app registration. */
  addUser(user: FakeEntraUser, options: { roles?: string[] } = {}): void {
    this.users.set(user.oid, { user, roles: options.roles ?? [] });
  }

  /** Who /authorize signs in from now on, unless a login_hint names another registered user. Registers the user (no roles) if needed. */
  signInAs(user: FakeEntraUser): void {
    if (!this.users.has(user.oid)) { this.addUser(user); }
    this.signedInOid = user.oid;
  }

  /** Nobody is signed in: /authorize without a known login_hint answers AADSTS50058. */
  signOut(): void {
    this.signedInOid = undefined;
  }

  /** As Graph's revokeSignInSessions: every refresh token the user holds dies (AADSTS50173); signing in again works. */
  revokeSignIns(oid: string): void {
    const now = new Date();
    for (const token of this.refreshTokens.values()) {
      if (token.oid === oid && !token.revokedAt) { token.revokedAt = now; }
    }
  }

  /** Ages every refresh token (of one user, or all) past Entra's 90-day inactivity limit (AADSTS700082). */
  expireRefreshTokens(oid?: string): void {
    for (const token of this.refreshTokens.values()) {
      if (oid === undefined || token.oid === oid) { token.inactive = true; }
    }
  }

  /** Ages every outstanding authorization code past its ten minutes (AADSTS70008), without waiting. */
  expireAuthorizationCodes(): void {
    for (const code of this.codes.values()) { code.expiresAt = 0; }
  }

  verifyResourceToken(token: string, resource: string): Record<string, unknown> | undefined {
    const claims = this.verifySignedClaims(token);
    if (!claims || !this.resourceTokenIds.has(String(claims.uti))) { return undefined; }
    if (claims.aud !== resource || typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) { return undefined; }
    return claims;
  }

  /**
   * Attaches the process-wide fake App Service managed identity endpoint to this fake. msal-node
   * remembers the endpoint (and caches managed identity tokens) for the whole process, so the
   * endpoint is shared by every FakeEntra and serves whichever attached last; acquire with
   * `forceRefresh: true` so a token cached from an earlier fake is never reused.
   */
  async managedIdentityEndpoint(options: { tenant?: string } = {}): Promise<FakeManagedIdentityEndpoint> {
    const tenant = options.tenant ?? this.tenants?.[0] ?? DEFAULT_MANAGED_IDENTITY_TENANT;
    const host = await sharedManagedIdentityHost();
    const issue = (resource: string) => this.issueManagedIdentityToken(resource, tenant);
    host.issuer = issue;
    return {
      endpoint: host.endpoint, header: host.header, principalId: FAKE_MANAGED_IDENTITY_PRINCIPAL_ID, issuer: this.issuerOf(tenant),
      stop: async () => { if (host.issuer === issue) { host.issuer = undefined; } },
    };
  }

  private issueManagedIdentityToken(resource: string, tenant: string): { token: string; expiresOn: number } {
    const now = nowSeconds();
    const claims: Claims = {
      aud: resource, iss: this.issuerOf(tenant), iat: now - BACKDATE_SECONDS, nbf: now - BACKDATE_SECONDS, exp: now + TOKEN_LIFETIME_SECONDS,
      azp: FAKE_MANAGED_IDENTITY_CLIENT_ID, azpacr: '2', idtyp: 'app', oid: FAKE_MANAGED_IDENTITY_PRINCIPAL_ID, sub: FAKE_MANAGED_IDENTITY_PRINCIPAL_ID,
      tid: tenant, uti: tokenId(), ver: '2.0',
      xms_mirid: `/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/mcp-rg/providers/Microsoft.Web/sites/mcp-server`,
    };
    const token = this.signToken(claims, 'RS256');
    rememberCredential(token);
    return { token, expiresOn: claims.exp as number };
  }

  // ---- HTTP ----

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      void this.route(req, Buffer.concat(chunks).toString('utf8'))
        .then(reply => sendJson(res, reply), () => sendJson(res, { status: 500, body: { error: 'server_error' } }));
    });
  }

  private async route(req: http.IncomingMessage, body: string): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const match = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token|oauth2\/v2\.0\/authorize)$/.exec(url.pathname);
    const correlationId = headerValue(req.headers['client-request-id']);
    if (!match) { return { status: 404, body: { error: 'not_found' } }; }
    const [, tenant, endpoint] = match;
    if (this.tenants && !this.tenants.includes(tenant)) {
      return entraErrorReply(new EntraRefusal(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`), correlationId);
    }
    if (endpoint === 'discovery/v2.0/keys') {
      this.fetchesOfJwks++;
      return { status: 200, body: this.jwks(tenant) };
    }
    if (endpoint.startsWith('v2.0')) {
      return { status: 200, body: this.openIdConfiguration(tenant) };
    }
    if (endpoint.endsWith('authorize')) {
      // Entra takes the authorization request as a GET query or a POSTed form.
      return this.authorize(tenant, req.method === 'POST' ? new URLSearchParams(body) : url.searchParams);
    }
    if (req.method !== 'POST') { return { status: 405, body: { error: 'invalid_request' } }; }
    if (this.failure) { return this.failure; }
    try {
      return { status: 200, body: await this.tokenGrant(tenant, new URLSearchParams(body)) };
    } catch (error) {
      if (error instanceof EntraRefusal) { return entraErrorReply(error, correlationId); }
      throw error;
    }
  }

  /** The tenant's discovery document, shaped as Entra's. */
  private openIdConfiguration(tenant: string): Record<string, unknown> {
    const base = `${this.authorityHost}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: this.issuerOf(tenant),
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat',
        'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  private jwks(tenant: string): { keys: Array<Record<string, unknown>> } {
    // Entra's kid is the certificate's thumbprint, so x5t repeats it; these keys have no certificate (x5c is optional).
    return { keys: this.keys.map(key => ({ kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: key.n, e: key.e, issuer: this.issuerOf(tenant) })) };
  }

  // ---- /authorize ----

  /**
   * Signs the user in without a page. As Entra: an unknown client or a redirect URI not registered
   * exactly is answered with an error page, never a redirect (it could be an attacker's); any
   * other fault goes back to the redirect URI as error=…; success is a 302 with code and state.
   */
  private authorize(tenant: string, params: URLSearchParams): Reply {
    const record: AuthorizeRequest = {
      clientId: params.get('client_id') ?? '', redirectUri: params.get('redirect_uri') ?? '', scopes: splitScopes(params.get('scope') ?? ''),
      hasPkce: Boolean(params.get('code_challenge')), outcome: 'code', ...optionalParams(params),
    };
    this.authorizeRequests.push(record);
    try {
      const app = this.authorizingApp(tenant, record.clientId, record.redirectUri);
      try {
        return this.authorizationResponse(tenant, app, record, params);
      } catch (error) {
        if (!(error instanceof EntraRefusal) || error.status !== 302) { throw error; }
        record.outcome = `AADSTS${error.code}`;
        return redirectWithError(record.redirectUri, error, params.get('state'));
      }
    } catch (error) {
      if (!(error instanceof EntraRefusal)) { throw error; }
      record.outcome = `AADSTS${error.code}`;
      return entraErrorPage(error);
    }
  }

  /** The app, once the redirect URI is known to be one it registered: only then may errors be redirected. */
  private authorizingApp(tenant: string, clientId: string, redirectUri: string): FakeEntraApp {
    const app = this.apps.find(candidate => candidate.clientId === clientId);
    if (!app) { throw unknownApplication(clientId, tenant); }
    if (!app.redirectUris?.length) {
      throw new EntraRefusal(400, 'invalid_request', 500113, 'No reply address is registered for the application.');
    }
    if (!app.redirectUris.includes(redirectUri)) {
      throw new EntraRefusal(400, 'invalid_request', 50011, `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`);
    }
    return app;
  }

  /** Checks what goes back to the redirect URI as an error (status 302 refusals), then issues the code. */
  private authorizationResponse(tenant: string, app: FakeEntraApp, record: AuthorizeRequest, params: URLSearchParams): Reply {
    checkAuthorizeParameters(params);
    const user = this.signInUser(params);
    const code = randomBytes(64).toString('base64url');
    rememberCredential(code);
    this.codes.set(code, {
      clientId: app.clientId, tenant, redirectUri: record.redirectUri, scopes: record.scopes, codeChallenge: params.get('code_challenge')!,
      oid: user.oid, nonce: params.get('nonce') ?? undefined, expiresAt: Date.now() + AUTHORIZATION_CODE_LIFETIME_MS, redeemed: false,
    });
    const answer = new URL(record.redirectUri);
    answer.searchParams.set('code', code);
    if (params.get('client_info') === '1') { answer.searchParams.set('client_info', clientInfoOf(user)); }
    if (params.has('state')) { answer.searchParams.set('state', params.get('state')!); }
    answer.searchParams.set('session_state', randomUUID());
    return { status: 302, body: undefined, location: answer.href };
  }

  /** The registered user a login_hint names, else whoever signInAs chose; prompt=none without one is login_required. */
  private signInUser(params: URLSearchParams): FakeEntraUser {
    const hint = params.get('login_hint')?.toLowerCase();
    const hinted = hint ? [...this.users.values()].find(entry => entry.user.upn.toLowerCase() === hint) : undefined;
    const chosen = hinted ?? (this.signedInOid ? this.users.get(this.signedInOid) : undefined);
    if (chosen) { return chosen.user; }
    const silent = params.get('prompt') === 'none';
    throw new EntraRefusal(silent ? 302 : 400, silent ? 'login_required' : 'invalid_request', 50058,
      'A silent sign-in request was sent but no user is signed in. The cookies used to represent the user\'s session were not sent in the request to Azure AD.');
  }

  // ---- Token endpoint ----

  private async tokenGrant(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    switch (form.get('grant_type')) {
      case AUTHORIZATION_CODE_GRANT: return this.redeemCode(tenant, form);
      case REFRESH_TOKEN_GRANT: return this.redeemRefreshToken(tenant, form);
      default: return this.onBehalfOf(tenant, form);
    }
  }

  /** The client_id's registration, and how the client proved it is that app. */
  private async confidentialClient(tenant: string, form: URLSearchParams): Promise<{ app: FakeEntraApp; credential: OboExchange['credential'] }> {
    const clientId = form.get('client_id') ?? '';
    const app = this.apps.find(candidate => candidate.clientId === clientId);
    if (!app) { throw unknownApplication(clientId, tenant); }
    return { app, credential: await this.authenticateClient(app, tenant, form) };
  }

  // ---- Authorization code grant ----

  private async redeemCode(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const { app, credential } = await this.confidentialClient(tenant, form);
    const issued = this.validCode(tenant, app, form);
    issued.redeemed = true;
    const registered = this.users.get(issued.oid)!;
    const requested = requestedResourceScopes(form.get('scope') ?? '');
    const answer = this.userTokens(app, registered, form, { signInScopes: issued.scopes, nonce: issued.nonce });
    this.codeRedemptions.push({ clientId: app.clientId, tid: registered.user.tid, oid: registered.user.oid, scopes: requested, credential });
    return answer;
  }

  /** The code, if it is this client's, unused, in time, sent back with its redirect URI and the verifier of its challenge. */
  private validCode(tenant: string, app: FakeEntraApp, form: URLSearchParams): IssuedCode {
    const code = form.get('code');
    if (!code) { throw missingParameter('code'); }
    const issued = this.codes.get(code);
    if (!issued || issued.clientId !== app.clientId) {
      throw new EntraRefusal(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    if (issued.tenant !== tenant) {
      throw new EntraRefusal(400, 'invalid_grant', 700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
    }
    if (issued.redeemed) {
      throw new EntraRefusal(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    }
    if (issued.expiresAt <= Date.now()) {
      throw new EntraRefusal(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    }
    const redirectUri = form.get('redirect_uri') ?? '';
    if (redirectUri !== issued.redirectUri) {
      throw new EntraRefusal(400, 'invalid_grant', 50011, `The reply address '${redirectUri}' does not match the reply address '${issued.redirectUri}' provided when requesting Authorization code.`);
    }
    const verifier = form.get('code_verifier');
    if (!verifier) { throw missingParameter('code_verifier'); }
    if (createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge) {
      throw new EntraRefusal(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    return issued;
  }

  // ---- Refresh token grant ----

  private async redeemRefreshToken(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    const { app, credential } = await this.confidentialClient(tenant, form);
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) { throw missingParameter('refresh_token'); }
    const issued = this.refreshTokens.get(refreshToken);
    if (!issued || issued.clientId !== app.clientId) {
      throw new EntraRefusal(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    }
    checkRefreshTokenAlive(issued);
    const registered = this.users.get(issued.oid)!;
    // Refresh tokens are multi-resource: the scope names the resource of this token, any consented one.
    const answer = this.userTokens(app, registered, form, { signInScopes: [], nonce: undefined });
    this.refreshGrants.push({ clientId: app.clientId, tid: registered.user.tid, oid: registered.user.oid, scopes: requestedResourceScopes(form.get('scope') ?? ''), credential });
    return answer;
  }

  // ---- Tokens for a signed-in user ----

  /**
   * The token response of the code and refresh grants: an access token for the one resource the
   * scope names (Graph User.Read when only sign-in scopes were asked), a new refresh token
   * (offline_access), an id token (openid) and client_info (client_info=1), as Entra answers.
   */
  private userTokens(app: FakeEntraApp, registered: RegisteredUser, form: URLSearchParams, signIn: { signInScopes: string[]; nonce: string | undefined }): Record<string, unknown> {
    const sent = form.get('scope') ?? '';
    const asked = new Set([...splitScopes(sent), ...signIn.signInScopes].map(scope => scope.toLowerCase()));
    const requested = requestedResourceScopes(sent);
    const { resource, permissions } = requested.length === 0 ? { resource: GRAPH_RESOURCE, permissions: [SIGN_IN_ONLY_PERMISSION] } : resolveResource(requested, sent);
    const granted = grantedPermissions(app, resource, permissions);
    const forApp = resource === app.clientId || resource === `api://${app.clientId}`;
    const accessToken = this.issueResourceToken(userClaimsOf(registered.user), app, resource, granted, forApp ? registered.roles : []);
    const oidcScopes = ['openid', 'profile', 'email'].filter(scope => asked.has(scope));
    return {
      token_type: 'Bearer', scope: [...oidcScopes, ...granted.map(permission => `${resource}/${permission}`)].join(' '),
      expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: accessToken,
      ...(asked.has('offline_access') ? { refresh_token: this.issueRefreshToken(app, registered.user) } : {}),
      ...(asked.has('openid') ? { id_token: this.issueIdToken(app, registered, asked.has('profile'), signIn.nonce) } : {}),
      ...(form.get('client_info') === '1' ? { client_info: clientInfoOf(registered.user) } : {}),
    };
  }

  private issueRefreshToken(app: FakeEntraApp, user: FakeEntraUser): string {
    // Opaque to clients, as Entra's are; earlier refresh tokens stay valid.
    const token = `1.A${randomBytes(96).toString('base64url')}`;
    this.refreshTokens.set(token, { clientId: app.clientId, oid: user.oid, issuedAt: new Date() });
    rememberCredential(token);
    return token;
  }

  /** The v2 id token: for the app itself, with the app roles assigned to the user. */
  private issueIdToken(app: FakeEntraApp, registered: RegisteredUser, profile: boolean, nonce: string | undefined): string {
    const { user, roles } = registered;
    const now = nowSeconds();
    const claims: Claims = {
      aud: app.clientId, iss: this.issuerOf(user.tid), iat: now - BACKDATE_SECONDS, nbf: now - BACKDATE_SECONDS, exp: now + TOKEN_LIFETIME_SECONDS,
      aio: 'AXQAi/8TAAAA', ...(profile ? { name: user.name, preferred_username: user.upn } : {}), ...(nonce !== undefined ? { nonce } : {}),
      oid: user.oid, ...(roles.length > 0 ? { roles } : {}), sub: pairwiseSubject(user.oid, app.clientId), tid: user.tid, uti: tokenId(), ver: '2.0',
    };
    const token = this.signToken(claims, 'RS256');
    rememberCredential(token);
    return token;
  }

  // ---- On-Behalf-Of ----

  private async onBehalfOf(tenant: string, form: URLSearchParams): Promise<Record<string, unknown>> {
    if (form.get('grant_type') !== JWT_BEARER_GRANT || form.get('requested_token_use') !== 'on_behalf_of') {
      throw new EntraRefusal(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    }
    const { app, credential } = await this.confidentialClient(tenant, form);
    const clientId = app.clientId;
    const user = await this.verifyUserAssertion(app, tenant, form.get('assertion') ?? '');
    const requested = requestedResourceScopes(form.get('scope') ?? '');
    const { resource, permissions } = resolveResource(requested, form.get('scope') ?? '');
    const granted = grantedPermissions(app, resource, permissions);
    const accessToken = this.issueResourceToken(user, app, resource, granted);
    this.oboExchanges.push({ clientId, tid: String(user.tid), oid: String(user.oid), scopes: requested, credential });
    return {
      token_type: 'Bearer', scope: granted.map(permission => `${resource}/${permission}`).join(' '),
      expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: accessToken,
    };
  }

  private async authenticateClient(app: FakeEntraApp, tenant: string, form: URLSearchParams): Promise<OboExchange['credential']> {
    const secret = form.get('client_secret');
    if (secret !== null) {
      if (!app.clientSecret || secret !== app.clientSecret) {
        throw new EntraRefusal(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
      }
      return 'secret';
    }
    const assertion = form.get('client_assertion');
    if (assertion === null) {
      throw new EntraRefusal(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      throw new EntraRefusal(400, 'invalid_request', 90014, "The request body must contain the following parameter: 'client_assertion_type'.");
    }
    const header = decodeJwtPart(assertion.split('.')[0]) ?? {};
    // An app signs its own assertion (iss = client id); anything else is another issuer's token, checked as a federated credential.
    if (app.certificatePem && decodeJwtPart(assertion.split('.')[1])?.iss === app.clientId) {
      await verifyCertificateAssertion(app, assertion, header, this.tokenEndpointOf(tenant));
      return 'certificate';
    }
    if (app.federatedCredential) {
      await this.verifyFederatedAssertion(app.federatedCredential, assertion);
      return 'assertion';
    }
    throw new EntraRefusal(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }

  private async verifyFederatedAssertion(expected: NonNullable<FakeEntraApp['federatedCredential']>, assertion: string): Promise<void> {
    const claims = await this.verifyWithJwks(assertion, () => new EntraRefusal(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
      () => new EntraRefusal(401, 'invalid_client', 700027, 'Client assertion failed signature validation.'));
    if (claims.iss !== expected.issuer) {
      throw new EntraRefusal(400, 'invalid_request', 700211, `No matching federated identity record found for presented assertion issuer '${String(claims.iss)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
    }
    if (claims.sub !== expected.subject) {
      throw new EntraRefusal(400, 'invalid_request', 700213, `No matching federated identity record found for presented assertion subject '${String(claims.sub)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
    }
    if (claims.aud !== expected.audience) {
      throw new EntraRefusal(400, 'invalid_request', 700212, `No matching federated identity record found for presented assertion audience '${String(claims.aud)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`);
    }
  }

  /** The user's token the middle tier received: signed here, in time, for this app, delegated, from this tenant. */
  private async verifyUserAssertion(app: FakeEntraApp, tenant: string, assertion: string): Promise<Claims> {
    const claims = await this.verifyWithJwks(assertion,
      () => new EntraRefusal(400, 'invalid_grant', 500133, 'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.'),
      () => new EntraRefusal(400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The key was not found.]'));
    const audiences = [app.clientId, `api://${app.clientId}`];
    if (!audiences.includes(String(claims.aud))) {
      throw new EntraRefusal(400, 'invalid_grant', 50013, `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(claims.aud)}' and the expected audience is '${app.clientId}' or one of the Application Uris of this application with App ID '${app.clientId}'.`);
    }
    const tokenTenant = String(claims.tid);
    const validIssuers = [this.issuerOf(tokenTenant), `https://sts.windows.net/${tokenTenant}/`];
    if (!validIssuers.includes(String(claims.iss)) || (!['common', 'organizations'].includes(tenant) && tokenTenant !== tenant)) {
      throw new EntraRefusal(400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]');
    }
    // OBO acts for a user: an app-only token carries no delegated scope and cannot be exchanged.
    if (typeof claims.scp !== 'string' || claims.idtyp === 'app') {
      throw new EntraRefusal(400, 'invalid_grant', 50013, 'Assertion is not valid for the On-Behalf-Of flow: it does not represent a user.');
    }
    return claims;
  }

  /** Verifies a JWT against the published keys with jose, mapping its failures to Entra's codes. */
  private async verifyWithJwks(token: string, expired: () => EntraRefusal, invalid: () => EntraRefusal): Promise<Claims> {
    const jose = await loadJose();
    try {
      const jwks = jose.createLocalJWKSet(this.jwks('common') as unknown as Jose.JSONWebKeySet);
      const { payload } = await jose.jwtVerify(token, jwks, { algorithms: ['RS256'] });
      return payload as Claims;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const timeClaim = code === 'ERR_JWT_EXPIRED' || (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf');
      throw timeClaim ? expired() : invalid();
    }
  }

  /** roles: the app roles of the user, for a token whose audience is the app itself. */
  private issueResourceToken(user: Claims, app: FakeEntraApp, resource: string, granted: string[], roles: string[] = []): string {
    const now = nowSeconds();
    const uti = tokenId();
    const claims: Claims = {
      aud: resource, iss: `https://sts.windows.net/${String(user.tid)}/`, iat: now - BACKDATE_SECONDS, nbf: now - BACKDATE_SECONDS, exp: now + TOKEN_LIFETIME_SECONDS,
      acr: '1', amr: ['pwd', 'mfa'], app_displayname: 'Remote MCP server', appid: app.clientId, appidacr: '1', idtyp: 'user',
      name: user.name, oid: user.oid, ...(roles.length > 0 ? { roles } : {}), scp: granted.join(' '), sub: pairwiseSubject(String(user.oid), resource), tid: user.tid,
      unique_name: user.upn, upn: user.upn, uti, ver: '1.0',
    };
    const token = this.signToken(claims, 'RS256');
    this.resourceTokenIds.add(uti);
    rememberCredential(token);
    return token;
  }

  // ---- JWT ----

  private signToken(claims: Claims, alg: 'RS256' | 'none' | 'HS256', kid?: string): string {
    const key = this.keys[0];
    const header = alg === 'RS256' ? { typ: 'JWT', alg, x5t: kid ?? key.kid, kid: kid ?? key.kid } : { typ: 'JWT', alg, ...(kid ? { kid } : {}) };
    const signingInput = `${encodeJwtPart(header)}.${encodeJwtPart(claims)}`;
    if (alg === 'none') { return `${signingInput}.`; }
    const signature = alg === 'HS256'
      ? createHmac('sha256', 'a-shared-secret-a-validator-must-never-accept').update(signingInput).digest()
      : sign('sha256', Buffer.from(signingInput), key.privateKey);
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** Synchronous RS256 check against the published keys (verifyResourceToken cannot wait for jose). */
  private verifySignedClaims(token: string): Claims | undefined {
    const [header, payload, signature] = token.split('.');
    const parsedHeader = decodeJwtPart(header);
    if (!parsedHeader || parsedHeader.alg !== 'RS256' || !payload || !signature) { return undefined; }
    const key = this.keys.find(candidate => candidate.kid === parsedHeader.kid);
    const valid = key !== undefined && verify('sha256', Buffer.from(`${header}.${payload}`), key.publicKey, Buffer.from(signature, 'base64url'));
    return valid ? decodeJwtPart(payload) : undefined;
  }
}

// ---- Claims ----

function accessTokenClaims(options: IssueOptions, v2Issuer: string): Claims {
  const { user } = options;
  const tid = options.tid ?? user.tid;
  const now = nowSeconds();
  const exp = now + (options.expiresInSeconds ?? TOKEN_LIFETIME_SECONDS);
  const iat = Math.min(now - BACKDATE_SECONDS, exp - TOKEN_LIFETIME_SECONDS);
  const v1 = options.ver === '1.0';
  const audience = v1 && !options.audience.includes('://') ? `api://${options.audience}` : options.audience;
  const times = { iat, nbf: options.notBeforeOffsetSeconds === undefined ? iat : now + options.notBeforeOffsetSeconds, exp };
  const caller = v1 ? { appid: FAKE_CALLER_APP_ID, appidacr: '0' } : { azp: FAKE_CALLER_APP_ID, azpacr: '0' };
  const issuer = options.issuer ?? (v1 ? `https://sts.windows.net/${user.tid}/` : v2Issuer);
  const identity = options.appOnly
    ? { idtyp: 'app', oid: user.oid, sub: user.oid, ...(options.roles ? { roles: options.roles } : {}) }
    : {
      idtyp: 'user', name: user.name, oid: user.oid, sub: pairwiseSubject(user.oid, audience), upn: user.upn,
      ...(v1 ? { unique_name: user.upn } : { preferred_username: user.upn }),
      scp: options.scp ?? 'access_as_user', ...(options.roles ? { roles: options.roles } : {}),
    };
  return { aud: audience, iss: issuer, ...times, aio: 'AXQAi/8TAAAA', ...caller, ...identity, tid, uti: tokenId(), ver: v1 ? '1.0' : '2.0', ...options.extraClaims };
}

/** Entra's sub is pairwise: the same user has a different sub for each resource. */
function pairwiseSubject(oid: string, audience: string): string {
  return createHash('sha256').update(`${oid}|${audience}`).digest('base64url').slice(0, 43);
}

/** The claims of a user's token the resource tokens are built from. */
function userClaimsOf(user: FakeEntraUser): Claims {
  return { oid: user.oid, tid: user.tid, name: user.name, upn: user.upn };
}

/** client_info as msal builds the account from: base64url of {"uid": oid, "utid": tid}. */
function clientInfoOf(user: FakeEntraUser): string {
  return Buffer.from(JSON.stringify({ uid: user.oid, utid: user.tid })).toString('base64url');
}

// ---- Authorization request and grants ----

function optionalParams(params: URLSearchParams): Partial<AuthorizeRequest> {
  const optional: Partial<AuthorizeRequest> = {};
  for (const [name, key] of [['code_challenge_method', 'codeChallengeMethod'], ['state', 'state'], ['prompt', 'prompt'], ['login_hint', 'loginHint']] as const) {
    const value = params.get(name);
    if (value !== null) { optional[key] = value; }
  }
  return optional;
}

/** The parameters a code needs; a refusal here goes back to the (verified) redirect URI. */
function checkAuthorizeParameters(params: URLSearchParams): void {
  const redirected = (error: string, code: number, description: string) => new EntraRefusal(302, error, code, description);
  if (params.get('response_type') !== 'code') {
    throw redirected('unsupported_response_type', 70005, `The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: 'code'. Received value: '${params.get('response_type') ?? ''}'.`);
  }
  if (!['query', null].includes(params.get('response_mode'))) {
    throw redirected('invalid_request', 70007, `The provided value '${params.get('response_mode') ?? ''}' for the input parameter 'response_mode' is not supported by this fake: use 'query'.`);
  }
  if (splitScopes(params.get('scope') ?? '').length === 0) {
    throw redirected('invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
  }
  // Entra demands PKCE only of single-page apps; this fake demands it of every client, as the server must send it.
  const challenge = params.get('code_challenge');
  if (!challenge) {
    throw redirected('invalid_request', 50147, "The request must contain the parameter 'code_challenge': Proof Key for Code Exchange (PKCE) is required.");
  }
  if (params.get('code_challenge_method') !== 'S256') {
    throw redirected('invalid_request', 9002313, `Invalid request. The code_challenge_method '${params.get('code_challenge_method') ?? 'plain'}' is not accepted: use S256.`);
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    throw redirected('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
  }
}

/** A revoked or inactive refresh token is refused as Entra does; suberror bad_token makes msal drop it and raise InteractionRequiredAuthError. */
function checkRefreshTokenAlive(issued: IssuedRefreshToken): void {
  if (issued.revokedAt) {
    throw new EntraRefusal(400, 'invalid_grant', 50173, `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${issued.issuedAt.toISOString()}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${issued.revokedAt.toISOString()}'.`, { suberror: 'bad_token' });
  }
  if (issued.inactive) {
    throw new EntraRefusal(400, 'invalid_grant', 700082, `The refresh token has expired due to inactivity. The token was issued on '${issued.issuedAt.toISOString()}' and was inactive for ${REFRESH_TOKEN_INACTIVITY}.`, { suberror: 'bad_token' });
  }
}

function unknownApplication(clientId: string, tenant: string): EntraRefusal {
  return new EntraRefusal(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
}

function missingParameter(name: string): EntraRefusal {
  return new EntraRefusal(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

// ---- Scopes ----

function splitScopes(scope: string): string[] {
  return scope.split(' ').filter(Boolean);
}

/** The resource scopes of a request, as sent: openid, profile and offline_access ask for no resource. */
function requestedResourceScopes(scope: string): string[] {
  return splitScopes(scope).filter(item => !OIDC_SCOPES.has(item.toLowerCase()));
}

/** One resource and its permission names; Entra issues one token for one resource. */
function resolveResource(scopes: string[], sent: string): { resource: string; permissions: string[] } {
  if (scopes.length === 0) {
    throw new EntraRefusal(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${sent} is not valid.`);
  }
  const parsed = scopes.map(parseScope);
  const resources = [...new Set(parsed.map(item => item.resource))];
  if (resources.length > 1) {
    throw new EntraRefusal(400, 'invalid_scope', 28000, `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${sent} is not valid.`);
  }
  return { resource: resources[0], permissions: parsed.map(item => item.permission) };
}

/** `User.Read` and `https://graph.microsoft.com/User.Read` are Graph's; `<resource>/<permission>` names its resource. */
function parseScope(scope: string): { resource: string; permission: string } {
  const slash = scope.lastIndexOf('/');
  if (slash === -1) { return { resource: GRAPH_RESOURCE, permission: scope }; }
  // ARM's `https://management.azure.com//.default` keeps a double slash: the resource is the host.
  const resource = scope.slice(0, slash).replace(/\/+$/, '');
  return { resource: resource === 'https://graph.microsoft.com' || resource === '00000003-0000-0000-c000-000000000000' ? GRAPH_RESOURCE : resource, permission: scope.slice(slash + 1) };
}

/** The permissions the token carries: each must have consent; `.default` stands for all that have. */
function grantedPermissions(app: FakeEntraApp, resource: string, permissions: string[]): string[] {
  const consented = app.consentedScopes?.map(parseScope).filter(item => item.resource === resource).map(item => item.permission);
  const granted = permissions.flatMap(permission => (permission === '.default'
    ? consented ?? [resource === GRAPH_RESOURCE ? 'User.Read' : 'user_impersonation']
    : [permission]));
  const missing = consented ? granted.filter(permission => !consented.some(name => name.toLowerCase() === permission.toLowerCase())) : [];
  if (missing.length > 0 || granted.length === 0) {
    throw new EntraRefusal(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${app.clientId}' named 'Remote MCP server'. Send an interactive authorization request for this user and resource.`, { suberror: 'consent_required' });
  }
  return [...new Set(granted)];
}

// ---- Client certificate ----

/** A certificate assertion as msal-node builds it: iss = sub = client id, aud = token endpoint, thumbprint of the registered certificate. */
async function verifyCertificateAssertion(app: FakeEntraApp, assertion: string, header: Claims, tokenEndpoint: string): Promise<void> {
  const certificate = new X509Certificate(app.certificatePem!);
  const thumbprint = (algorithm: 'sha1' | 'sha256') => createHash(algorithm).update(certificate.raw).digest('base64url');
  const matches = header.alg === 'RS256' ? header.x5t === thumbprint('sha1')
    : header.alg === 'PS256' ? header['x5t#S256'] === thumbprint('sha256') : false;
  if (!matches) {
    throw new EntraRefusal(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${String(header.x5t ?? header['x5t#S256'])}']`);
  }
  const jose = await loadJose();
  try {
    const key = await jose.importX509(app.certificatePem!, String(header.alg));
    // msal-node rounds the clock, so its nbf can be a moment ahead; Entra allows five minutes of skew.
    await jose.jwtVerify(assertion, key, { algorithms: ['RS256', 'PS256'], audience: tokenEndpoint, issuer: app.clientId, subject: app.clientId,
      requiredClaims: ['exp'], clockTolerance: CLOCK_SKEW_SECONDS });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') {
      throw new EntraRefusal(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
      throw new EntraRefusal(401, 'invalid_client', 700021, `Client assertion application identifier doesn't match 'client_id' parameter, or its audience is not the token endpoint '${tokenEndpoint}'.`);
    }
    throw new EntraRefusal(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }
}

// ---- Managed identity endpoint (App Service / Container Apps protocol) ----

interface ManagedIdentityHost {
  endpoint: string;
  header: string;
  issuer: ((resource: string) => { token: string; expiresOn: number }) | undefined;
}

let managedIdentityHost: Promise<ManagedIdentityHost> | undefined;

/** One loopback endpoint per process: msal-node keeps the first IDENTITY_ENDPOINT/IDENTITY_HEADER it saw. */
function sharedManagedIdentityHost(): Promise<ManagedIdentityHost> {
  return managedIdentityHost ??= new Promise(resolve => {
    const host: ManagedIdentityHost = { endpoint: '', header: randomUUID(), issuer: undefined };
    rememberCredential(host.header);
    const server = http.createServer((req, res) => sendJson(res, answerManagedIdentity(host, req)));
    server.listen(0, '127.0.0.1', () => {
      // Never keeps the test process alive; it lives as long as msal-node's memory of it.
      server.unref();
      host.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
      resolve(host);
    });
  });
}

/** GET /msi/token?api-version=2019-08-01&resource=… with X-IDENTITY-HEADER, answered as App Service answers. */
function answerManagedIdentity(host: ManagedIdentityHost, req: http.IncomingMessage): Reply {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET' || url.pathname !== '/msi/token') { return { status: 404, body: { error: 'not_found' } }; }
  if (headerValue(req.headers['x-identity-header']) !== host.header) {
    return { status: 401, body: { error: 'unauthorized_client', error_description: 'The X-IDENTITY-HEADER header is missing or invalid.' } };
  }
  const resource = url.searchParams.get('resource')?.replace(/\/\.default$/, '');
  if (url.searchParams.get('api-version') !== APP_SERVICE_MSI_API_VERSION || !resource) {
    return { status: 400, body: { error: 'invalid_request', error_description: `api-version ${APP_SERVICE_MSI_API_VERSION} and resource are required.` } };
  }
  if (!host.issuer) { return { status: 500, body: { error: 'server_error', error_description: 'No fake Entra is attached to the managed identity endpoint.' } }; }
  const { token, expiresOn } = host.issuer(resource);
  return { status: 200, body: { access_token: token, expires_on: String(expiresOn), resource, token_type: 'Bearer', client_id: FAKE_MANAGED_IDENTITY_CLIENT_ID } };
}

// ---- Helpers ----

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  // Entra's kids are base64url SHA-1 thumbprints (27 characters).
  const kid = createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
  return { kid, privateKey, publicKey, n: n!, e: e! };
}

/** Entra's error body: the AADSTS code leads the description, which ends with the trace details. */
function entraErrorReply(refusal: EntraRefusal, correlationId: string | undefined): Reply {
  const traceId = randomUUID();
  const correlation = correlationId ?? randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return {
    status: refusal.status,
    body: {
      error: refusal.error,
      error_description: `AADSTS${refusal.code}: ${refusal.description} Trace ID: ${traceId} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [refusal.code], timestamp, trace_id: traceId, correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${refusal.code}`, ...refusal.extra,
    },
  };
}

/** An error of /authorize sent back to the redirect URI, as Entra words it. */
function redirectWithError(redirectUri: string, refusal: EntraRefusal, state: string | null): Reply {
  const { body } = entraErrorReply(refusal, undefined);
  const answer = new URL(redirectUri);
  const fields = body as Record<string, unknown>;
  for (const name of ['error', 'error_description', 'error_uri']) { answer.searchParams.set(name, String(fields[name])); }
  if (state !== null) { answer.searchParams.set('state', state); }
  return { status: 302, body: undefined, location: answer.href };
}

/** Entra's error page for what it will not redirect: the AADSTS code and message, the request's echo escaped. */
function entraErrorPage(refusal: EntraRefusal): Reply {
  const { status, body } = entraErrorReply(refusal, undefined);
  const fields = body as Record<string, unknown>;
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head><body>`
    + `<h1>Sorry, but we're having trouble signing you in.</h1><p id="error">${escapeHtml(String(fields.error_description).split(' Trace ID:')[0])}</p>`
    + `<p>Request Id: ${String(fields.trace_id)}<br>Correlation Id: ${String(fields.correlation_id)}<br>Timestamp: ${String(fields.timestamp)}</p></body></html>`;
  return { status, body: undefined, html };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, character => `&#${character.charCodeAt(0)};`);
}

function sendJson(res: http.ServerResponse, reply: Reply): void {
  if (res.destroyed) { return; }
  if (reply.location !== undefined) {
    res.writeHead(reply.status, { location: reply.location, 'cache-control': 'no-store, no-cache', ...reply.headers });
    res.end();
    return;
  }
  if (reply.html !== undefined) {
    res.writeHead(reply.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store, no-cache', ...reply.headers });
    res.end(reply.html);
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store, no-cache', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function encodeJwtPart(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeJwtPart(part: string | undefined): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? value as Claims : undefined;
  } catch {
    return undefined;
  }
}

function tokenId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 22);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
