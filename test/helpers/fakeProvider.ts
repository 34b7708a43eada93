/** Fakes of what the token service gets from VS Code: the provider, SecretStorage and a Memento. */
import { GetSession, GetSessionOptions, ProviderSession, WwwAuthenticateRequest } from '../../src/extension/auth/providerTypes';
import { SecretStore } from '../../src/extension/auth/tokenCache';
import { makeFakeToken } from './tokens';

export interface ProviderCall {
  providerId: string;
  request: readonly string[] | WwwAuthenticateRequest;
  options: GetSessionOptions;
  /** The token this call answered with, once it answered. */
  accessToken?: string;
}

/** A provider with one signed-in account that mints a fresh token per call. */
export class FakeProvider {
  readonly calls: ProviderCall[] = [];
  hasSession = true;
  /** Answer to interactive calls: a session, or throw as VS Code does when the user cancels. */
  interactive: 'accept' | 'cancel' = 'accept';
  lifetimeSeconds = 3600;
  delayMs = 0;
  /** When set, every call fails with it, as the provider does on an Entra error. */
  failWith: Error | undefined;
  private readonly holds: Array<Promise<void>> = [];
  /** Claims requests the provider was given (decoded JSON), in call order. */
  readonly claims: string[] = [];
  private issued = 0;

  readonly getSession: GetSession = async (providerId, request, options) => {
    const call: ProviderCall = { providerId, request, options };
    this.calls.push(call);
    if (this.delayMs) { await new Promise(resolve => setTimeout(resolve, this.delayMs)); }
    const hold = this.holds.shift();
    if (hold) { await hold; }
    if (this.failWith) { throw this.failWith; }
    const interactive = !!options.createIfNone || !!options.forceNewSession;
    if (!this.hasSession && !interactive) {
      return undefined;
    }
    if (interactive && this.interactive === 'cancel') {
      throw new Error('User did not consent to login.');
    }
    this.hasSession = true;
    const session = this.session(request);
    call.accessToken = session.accessToken;
    return session;
  };

  /**
   * A session the way VS Code's Microsoft provider builds one: for a challenge, its `scope=`
   * wins over the fallback scopes, and its claims (base64, else JSON) must be present; the
   * pseudo-scopes choose tenant and client; `session.scopes` repeats what was asked; the
   * token's `scp` names the permissions granted (without resource prefix, as Entra does).
   */
  session(request: readonly string[] | WwwAuthenticateRequest): ProviderSession {
    const scopes = Array.isArray(request) ? [...request as readonly string[]] : this.challengeScopes(request as WwwAuthenticateRequest);
    const pseudo = (prefix: string) => [...scopes].sort().reduce<string | undefined>((found, scope) => scope.startsWith(prefix) ? scope.slice(prefix.length) : found, undefined);
    const tenant = pseudo('VSCODE_TENANT:');
    this.issued++;
    return {
      accessToken: makeFakeToken({
        exp: Math.floor(Date.now() / 1000) + this.lifetimeSeconds,
        tid: tenant && /^[0-9a-f-]{36}$/i.test(tenant) ? tenant : HOME_TENANT_ID,
        appid: pseudo('VSCODE_CLIENT_ID:') ?? VSCODE_CLIENT_ID,
        upn: 'MeganB@contoso.com', name: 'Megan Bowen', n: this.issued,
        scp: scopes.filter(scope => !scope.startsWith('VSCODE_') && !OIDC_SCOPES.includes(scope)).map(permissionName).join(' '),
      }),
      account: { id: 'account-megan', label: 'MeganB@contoso.com' },
      scopes,
    };
  }

  private challengeScopes(request: WwwAuthenticateRequest): string[] {
    const params = parseChallengeLikeVsCode(request.wwwAuthenticate);
    const scopes = params.scope ? params.scope.split(' ') : [...(request.fallbackScopes ?? [])];
    if (scopes.length === 0) { throw new Error('No scopes found in authentication challenges or fallback scopes'); }
    const claims = params.claims === undefined ? undefined : decodeClaimsLikeVsCode(params.claims);
    if (!claims) { throw new Error('No claims found in authentication challenges'); }
    this.claims.push(claims);
    return scopes;
  }

  /**
   * Holds the next call until the returned function is called: a token request still in flight
   * (a slow network, a sign-in the user is completing) while something else happens.
   */
  holdNextCall(): () => void {
    let release!: () => void;
    this.holds.push(new Promise<void>(resolve => { release = resolve; }));
    return release;
  }

  interactiveCalls(): ProviderCall[] {
    return this.calls.filter(call => call.options.createIfNone || call.options.forceNewSession);
  }
}

const HOME_TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
/** VS Code's own app registration, used when no VSCODE_CLIENT_ID: pseudo-scope is given. */
const VSCODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';
const OIDC_SCOPES = ['openid', 'email', 'profile', 'offline_access'];

/** `https://graph.microsoft.us/User.Read` → `User.Read`: what Entra puts in `scp`. */
function permissionName(scope: string): string {
  return scope.includes('://') ? scope.slice(scope.lastIndexOf('/') + 1) : scope;
}

/**
 * The parameters of the first Bearer challenge, read as VS Code's parser reads them: split on
 * commas outside quotes, name up to the first `=`, surrounding quotes stripped, no unescaping.
 */
function parseChallengeLikeVsCode(header: string): Record<string, string> {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of header) {
    if (char === '"') { quoted = !quoted; }
    if (char === ',' && !quoted) { parts.push(current.trim()); current = ''; } else { current += char; }
  }
  parts.push(current.trim());
  const params: Record<string, string> = {};
  let inBearer = false;
  for (const part of parts.filter(Boolean)) {
    let text = part;
    const space = part.indexOf(' ');
    if (space > 0 && !part.slice(0, space).includes('=')) {
      inBearer = part.slice(0, space).toLowerCase() === 'bearer';
      text = part.slice(space + 1);
    }
    const equals = text.indexOf('=');
    if (inBearer && equals > 0 && !(text.slice(0, equals).trim() in params)) {
      params[text.slice(0, equals).trim()] = text.slice(equals + 1).trim().replace(/^"|"$/g, '');
    }
  }
  return params;
}

function decodeClaimsLikeVsCode(value: string): string | undefined {
  for (const candidate of [Buffer.from(value, 'base64').toString('utf8'), value]) {
    try { JSON.parse(candidate); return candidate; } catch { /* try the next form */ }
  }
  return undefined;
}

export class MemorySecrets implements SecretStore {
  readonly data = new Map<string, string>();
  async get(key: string) { return this.data.get(key); }
  async store(key: string, value: string) { this.data.set(key, value); }
  async delete(key: string) { this.data.delete(key); }
  async keys() { return [...this.data.keys()]; }
}

export class MemoryState {
  readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined { return this.data.get(key) as T | undefined; }
  async update(key: string, value: unknown) { if (value === undefined) { this.data.delete(key); } else { this.data.set(key, value); } }
}
