/**
 * Serves access tokens to the broker from VS Code's Microsoft sign-in. Owns the sign-in state
 * this extension keeps on top of VS Code's (signed out, chosen account), the token cache and
 * its refresh rules. Pure: the provider, storage and clock are passed in.
 */
import { CloudDescription, qualifyScopeForCloud } from '../../shared/clouds';
import { tokenExpiry, readTokenClaims } from '../../shared/jwt';
import { GetTokenParams, GetTokenResult, StatusResult } from '../../shared/protocol';
import { isPseudoScope, normalizeScopes, sameScopes, scopeKey } from '../../shared/scopes';
import { Audit } from '../audit';
import { BrokerError, isBrokerError, notSignedInError, providerFailure } from './brokerError';
import { screenClaimsChallenge } from '../../shared/claimsChallenge';
import { GetSession, GetSessionOptions, ProviderSession, SessionAccount, StateStore, WwwAuthenticateRequest } from './providerTypes';
import { CachedToken, TokenCache, cacheKey, isFresh } from './tokenCache';

export interface AuthSettings {
  readonly cloud: CloudDescription;
  /** Tenant id, domain, `organizations` or `common`. */
  readonly tenant: string;
  /** The user's own app registration, if any. */
  readonly clientId?: string;
  readonly promptForSignIn: boolean;
}

export interface SignInRequest {
  readonly tool: string;
  readonly scopes: readonly string[];
}

export interface TokenServiceDeps {
  readonly getSession: GetSession;
  readonly cache: TokenCache;
  readonly state: StateStore;
  readonly settings: () => AuthSettings;
  /** This extension's own prompt, shown when a tool needs a token while the user signed out. */
  readonly confirmSignIn: (request: SignInRequest) => PromiseLike<boolean>;
  readonly audit: Audit;
  readonly now?: () => number;
}

/** The scope asked for at sign-in: enough to know who the user is. */
export const SIGN_IN_SCOPES = ['User.Read'];

const STATE_SIGNED_OUT = 'entraMcp.signedOut';
const STATE_ACCOUNT = 'entraMcp.account';

/**
 * Thrown inside the service when the sign-in state changed (sign-out, account, tenant or cache)
 * while a token was being obtained: that token belongs to a state the user already left.
 */
class Superseded extends Error {}

export class TokenService {
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /**
   * Bumped by sign-out, account switch, cache clear (also on tenant, client id or cloud change):
   * work started under an older generation must not sign the user in, fill the cache or be served.
   */
  private generation = 0;
  /** Sign-in state writes, one at a time, so a sign-out is never overtaken by a sign-in. */
  private stateWrites: Promise<unknown> = Promise.resolve();
  private interactive: Promise<unknown> | undefined;
  private pendingConfirm: Promise<boolean> | undefined;
  /** Set when the user declines our prompt; cleared by an explicit sign-in. Stops prompt storms. */
  private promptDeclined = false;
  private lastTenantId: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly deps: TokenServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Fires when sign-in state, account or cached scopes change. */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  isSignedOut(): boolean {
    return this.deps.state.get<boolean>(STATE_SIGNED_OUT) === true;
  }

  account(): SessionAccount | undefined {
    return this.deps.state.get<SessionAccount>(STATE_ACCOUNT);
  }

  /** An access token for a tool call; throws a BrokerError whose message says what to do. */
  async getToken(params: GetTokenParams): Promise<GetTokenResult> {
    const scopes = normalizeScopes(params.scopes);
    const challenge = params.wwwAuthenticate === undefined ? undefined : this.screenChallenge(params.tool, scopes, params.wwwAuthenticate);
    // A change of tenant, account or cache mid-request: try once more under the new settings.
    for (let attempt = 1; ; attempt++) {
      if (this.isSignedOut()) {
        await this.signInAfterSignOut({ tool: params.tool, scopes });
      }
      try {
        const token = challenge
          ? await this.acquire(params.tool, scopes, challenge)
          : await this.cachedOrAcquire(params.tool, scopes, params.forceRefresh === true);
        return { accessToken: token.accessToken, expiresOn: token.expiresOn, account: token.account.label, tenantId: token.tenantId };
      } catch (error) {
        if (!(error instanceof Superseded)) { throw error; }
        if (this.isSignedOut()) {
          throw notSignedInError(params.tool, 'You signed out of Entra MCP Broker while the token was being requested.');
        }
        if (attempt >= 2) {
          throw new BrokerError('TokenUnavailable', 'The account, tenant or token cache changed while the token was being requested. Try again.');
        }
      }
    }
  }

  /**
   * The claims challenge reduced to its claims, rebuilt by us; a challenge naming other scopes,
   * a tenant or a client id is refused. Neither the audit nor the error quotes the challenge.
   */
  private screenChallenge(tool: string, scopes: string[], wwwAuthenticate: string): string {
    const settings = this.deps.settings();
    const screened = screenClaimsChallenge(wwwAuthenticate, scopes.flatMap(scope => [scope, qualifyScopeForCloud(scope, settings.cloud)]));
    if (screened.kind === 'claims') {
      return screened.challenge;
    }
    this.deps.audit({ event: 'token', outcome: 'refused', tool, scopes, detail: `claims challenge refused: ${screened.reason}` });
    if (screened.kind === 'widening') {
      throw new BrokerError('ScopeNotAllowed', `A claims challenge for the tool "${tool}" asked for more than its permission ${scopes.join(', ')}; it was refused.`);
    }
    throw new BrokerError('InvalidParams', `The claims challenge for the tool "${tool}" was not usable (${screened.reason}).`);
  }

  /** The Sign In command: interactive, clears a previous sign-out. */
  signIn(detail = 'Entra MCP Broker signs you in so Copilot agent mode can use Microsoft 365 and Azure tools as you.'): Promise<SessionAccount> {
    return this.signInWith({ createIfNone: { detail }, account: this.account() });
  }

  /** Switches to another account VS Code knows; cached tokens of the previous one are purged. */
  async switchAccount(account: SessionAccount): Promise<SessionAccount> {
    this.supersedeInflight();
    await this.deps.cache.clear();
    return this.signInWith({ createIfNone: { detail: `Entra MCP Broker will act as ${account.label} from now on.` }, account });
  }

  /** Signs in with an account VS Code does not know yet. */
  async switchToNewAccount(): Promise<SessionAccount> {
    this.supersedeInflight();
    await this.deps.cache.clear();
    return this.signInWith({ forceNewSession: { detail: 'Sign in with the account Entra MCP Broker should act as.' }, clearSessionPreference: true });
  }

  private async signInWith(options: GetSessionOptions): Promise<SessionAccount> {
    const generation = this.generation;
    const session = await this.interactiveSession(SIGN_IN_SCOPES, options, undefined);
    try {
      this.checkGranted(SIGN_IN_SCOPES, session);
      await this.rememberSignIn(session, generation);
      await this.store(SIGN_IN_SCOPES, session, generation);
    } catch (error) {
      if (error instanceof Superseded) {
        throw notSignedInError(undefined, 'You signed out, switched account or cleared the token cache while signing in.');
      }
      throw error;
    }
    return session.account;
  }

  /** Work in flight belongs to the state being left: its results are discarded, not served. */
  private supersedeInflight(): void {
    this.generation++;
    this.inflight.clear();
  }

  private writeState(work: () => Promise<void>): Promise<void> {
    const next = this.stateWrites.then(work);
    this.stateWrites = next.catch(() => undefined);
    return next;
  }

  /**
   * Signs out of this extension. VS Code keeps the account and our access to it, so the
   * signed-out state is ours to remember: no token is served until the user signs in again.
   */
  async signOut(): Promise<void> {
    this.supersedeInflight();
    await this.writeState(async () => {
      await this.deps.state.update(STATE_SIGNED_OUT, true);
      await this.deps.state.update(STATE_ACCOUNT, undefined);
    });
    this.lastTenantId = undefined;
    await this.deps.cache.clear();
    await this.clearSessionPreference();
    this.deps.audit({ event: 'sign-out', outcome: 'ok' });
    this.fireChange();
  }

  /** Forgets every cached token (the Clear Token Cache command, tenant and cloud changes). */
  async clearCache(reason: string): Promise<number> {
    this.supersedeInflight();
    this.lastTenantId = undefined;
    const removed = await this.deps.cache.clear();
    this.deps.audit({ event: 'cache-cleared', outcome: 'ok', detail: `${reason}; ${removed} entries` });
    this.fireChange();
    return removed;
  }

  status(): StatusResult {
    const settings = this.deps.settings();
    const account = this.isSignedOut() ? undefined : this.account();
    const now = this.now();
    const granted = account
      ? this.deps.cache.entries().filter(entry => entry.account.id === account.id && entry.expiresOn > now).flatMap(entry => entry.scopes)
      : [];
    return {
      signedIn: account !== undefined,
      account: account?.label,
      tenantId: account ? this.lastTenantId : undefined,
      tenant: settings.tenant,
      cloud: settings.cloud.label,
      grantedScopes: normalizeScopes(granted),
    };
  }

  private async signInAfterSignOut(request: SignInRequest): Promise<void> {
    const settings = this.deps.settings();
    if (!settings.promptForSignIn || this.promptDeclined) {
      throw notSignedInError(request.tool, 'You signed out of Entra MCP Broker.');
    }
    const accepted = await this.confirmOnce(request);
    if (!accepted) {
      this.promptDeclined = true;
      throw notSignedInError(request.tool, 'You signed out of Entra MCP Broker and did not sign in again.');
    }
    if (this.isSignedOut()) {
      await this.signIn(signInDetail(request));
    }
  }

  private async cachedOrAcquire(tool: string, scopes: string[], bypassCache: boolean): Promise<CachedToken> {
    const key = this.keyFor(scopes, this.account()?.id ?? '(default)');
    const cached = bypassCache ? undefined : await this.deps.cache.get(key);
    if (cached && isFresh(cached, this.now())) {
      this.deps.audit({ event: 'token', outcome: 'ok', tool, scopes, latencyMs: 0, detail: 'cache' });
      return cached;
    }
    // Concurrent requests for the same key share one provider call.
    let pending = this.inflight.get(key);
    if (!pending) {
      const started = this.acquire(tool, scopes, undefined).finally(() => {
        if (this.inflight.get(key) === started) { this.inflight.delete(key); }
      });
      this.inflight.set(key, started);
      pending = started;
    }
    return pending;
  }

  /** `wwwAuthenticate` is a challenge already screened and rebuilt by `screenChallenge`. */
  private async acquire(tool: string, scopes: string[], wwwAuthenticate: string | undefined): Promise<CachedToken> {
    const started = this.now();
    const generation = this.generation;
    try {
      let session = await this.providerCall(scopes, { silent: true, account: this.account() }, wwwAuthenticate);
      if (!session) {
        this.checkCurrent(generation);
        session = await this.promptForSession(tool, scopes, wwwAuthenticate);
      }
      this.checkCurrent(generation);
      this.checkGranted(scopes, session);
      if (!this.account()) {
        await this.rememberSignIn(session, generation);
      }
      const token = await this.store(scopes, session, generation);
      this.deps.audit({ event: 'token', outcome: 'ok', tool, scopes, latencyMs: this.now() - started, detail: wwwAuthenticate ? 'claims challenge' : 'provider' });
      return token;
    } catch (error) {
      if (error instanceof Superseded) {
        this.deps.audit({ event: 'token', outcome: 'refused', tool, scopes, latencyMs: this.now() - started, detail: 'discarded: signed out, account, tenant or cache changed meanwhile' });
        throw error;
      }
      const brokerError = isBrokerError(error) ? error : providerFailure(tool, scopes, error);
      this.deps.audit({ event: 'token', outcome: 'failed', tool, scopes, latencyMs: this.now() - started, detail: brokerError.reason });
      throw brokerError;
    }
  }

  private checkCurrent(generation: number): void {
    if (generation !== this.generation) {
      throw new Superseded();
    }
  }

  /**
   * A token is used (and cached) only for what it was granted: the provider must report the
   * scopes, tenant and client we asked for, and a readable `scp` must name every permission.
   */
  private checkGranted(scopes: readonly string[], session: ProviderSession): void {
    const asked = this.providerScopes(scopes, this.deps.settings());
    const mismatch = grantMismatch(asked, session, this.deps.settings().tenant);
    if (mismatch) {
      throw new BrokerError('TokenUnavailable', `VS Code returned a token that does not match the permission ${scopes.join(', ')} (${mismatch}); it was not used. Run "Entra MCP: Sign In" and try again.`);
    }
  }

  private async promptForSession(tool: string, scopes: string[], wwwAuthenticate: string | undefined): Promise<ProviderSession> {
    if (!this.deps.settings().promptForSignIn || this.promptDeclined) {
      throw notSignedInError(tool, `It needs the permission ${scopes.join(', ')}.`);
    }
    try {
      return await this.interactiveSession(scopes, { createIfNone: { detail: signInDetail({ tool, scopes }) }, account: this.account() }, wwwAuthenticate);
    } catch (error) {
      const brokerError = providerFailure(tool, scopes, error);
      if (brokerError.reason === 'NotSignedIn') {
        this.promptDeclined = true;
      }
      throw brokerError;
    }
  }

  /** One interactive prompt at a time: a second caller waits for the first, then tries silently. */
  private async interactiveSession(scopes: readonly string[], options: GetSessionOptions, wwwAuthenticate: string | undefined): Promise<ProviderSession> {
    if (this.interactive) {
      await this.interactive.catch(() => undefined);
      const session = await this.providerCall(scopes, { silent: true, account: this.account() }, wwwAuthenticate);
      if (session) {
        return session;
      }
    }
    const prompt = Promise.resolve(this.providerCall(scopes, options, wwwAuthenticate));
    this.interactive = prompt;
    try {
      const session = await prompt;
      if (!session) {
        throw new Error('User did not consent to login.');
      }
      return session;
    } finally {
      if (this.interactive === prompt) { this.interactive = undefined; }
    }
  }

  /** Concurrent tool calls while signed out share one confirmation prompt. */
  private confirmOnce(request: SignInRequest): Promise<boolean> {
    if (!this.pendingConfirm) {
      this.pendingConfirm = Promise.resolve(this.deps.confirmSignIn(request))
        .catch(() => false)
        .finally(() => { this.pendingConfirm = undefined; });
    }
    return this.pendingConfirm;
  }

  private providerCall(scopes: readonly string[], options: GetSessionOptions, wwwAuthenticate: string | undefined): PromiseLike<ProviderSession | undefined> {
    const settings = this.deps.settings();
    const providerScopes = this.providerScopes(scopes, settings);
    // The challenge carries no `scope`, so VS Code's provider asks for exactly the fallback scopes.
    const request: readonly string[] | WwwAuthenticateRequest = wwwAuthenticate
      ? { wwwAuthenticate, fallbackScopes: providerScopes }
      : providerScopes;
    return this.deps.getSession(settings.cloud.providerId, request, options);
  }

  /** Resource scopes plus VS Code's tenant and client-id pseudo-scopes. */
  private providerScopes(scopes: readonly string[], settings: AuthSettings): string[] {
    const qualified = scopes.map(scope => qualifyScopeForCloud(scope, settings.cloud));
    const pseudo = [`VSCODE_TENANT:${settings.tenant}`];
    if (settings.clientId) {
      pseudo.push(`VSCODE_CLIENT_ID:${settings.clientId}`);
    }
    return [...qualified, ...pseudo];
  }

  private async store(scopes: readonly string[], session: ProviderSession, generation: number): Promise<CachedToken> {
    this.checkCurrent(generation);
    const tenantId = readTokenClaims(session.accessToken)?.tid ?? this.deps.settings().tenant;
    const token: CachedToken = {
      accessToken: session.accessToken,
      expiresOn: tokenExpiry(session.accessToken, this.now()),
      account: { id: session.account.id, label: session.account.label },
      tenantId,
      scopes: normalizeScopes(scopes),
    };
    const key = this.keyFor(scopes, session.account.id);
    await this.deps.cache.set(key, token);
    if (generation !== this.generation) {
      // A sign-out or cache clear ran while the entry was being written: it must not survive it.
      await this.deps.cache.delete(key);
      throw new Superseded();
    }
    this.lastTenantId = tenantId;
    this.fireChange();
    return token;
  }

  private keyFor(scopes: readonly string[], accountId: string): string {
    const settings = this.deps.settings();
    return cacheKey({ providerId: settings.cloud.providerId, accountId, tenant: settings.tenant, scopes });
  }

  private async rememberSignIn(session: ProviderSession, generation: number): Promise<void> {
    const wasSignedOut = this.isSignedOut();
    const previous = this.account();
    await this.writeState(async () => {
      // Checked in the queue: a sign-out queued first wins, one queued later runs after this.
      this.checkCurrent(generation);
      await this.deps.state.update(STATE_ACCOUNT, { id: session.account.id, label: session.account.label });
      await this.deps.state.update(STATE_SIGNED_OUT, false);
    });
    this.promptDeclined = false;
    if (wasSignedOut || previous?.id !== session.account.id) {
      this.deps.audit({ event: 'sign-in', outcome: 'ok', detail: `account ${session.account.label}` });
    }
    this.fireChange();
  }

  private async clearSessionPreference(): Promise<void> {
    const settings = this.deps.settings();
    try {
      await this.deps.getSession(settings.cloud.providerId, this.providerScopes(SIGN_IN_SCOPES, settings), { silent: true, clearSessionPreference: true });
    } catch {
      // Best effort: the preference only matters when VS Code knows several accounts.
    }
  }

  private fireChange(): void {
    for (const listener of this.listeners) {
      listener();
    }
  }
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** What Entra writes in `scp` for a scope: the permission without its resource. */
function permissionName(scope: string): string {
  return scope.includes('://') ? scope.slice(scope.lastIndexOf('/') + 1) : scope;
}

/** Why a session does not match the request, or undefined when it does. Never quotes the token. */
function grantMismatch(asked: readonly string[], session: ProviderSession, tenant: string): string | undefined {
  const askedResources = asked.filter(scope => !isPseudoScope(scope));
  if (session.scopes.length > 0) {
    const reported = session.scopes.filter(scope => !isPseudoScope(scope));
    if (!sameScopes(reported, askedResources)) {
      return 'other scopes';
    }
    if (!sameScopes(session.scopes.filter(isPseudoScope), asked.filter(isPseudoScope))) {
      return 'another tenant or client id';
    }
  }
  const claims = readTokenClaims(session.accessToken);
  if (typeof claims?.scp === 'string') {
    const granted = new Set(claims.scp.split(' ').map(scopeKey));
    const named = askedResources.map(permissionName).filter(name => name !== '.default' && !OIDC_SCOPES.has(name.toLowerCase()));
    if (!named.every(name => granted.has(scopeKey(name)))) {
      return 'permissions missing from the token';
    }
  }
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenant) && claims?.tid && claims.tid.toLowerCase() !== tenant.toLowerCase()) {
    return 'another tenant';
  }
  return undefined;
}

function signInDetail(request: SignInRequest): string {
  return `The Entra MCP tool "${request.tool}" needs the Microsoft permission ${request.scopes.join(', ')} to act as you.`;
}

export { BrokerError };
