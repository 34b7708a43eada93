/** Fakes of what the token service gets from VS Code: the provider, SecretStorage and a Memento. */
import { GetSession, GetSessionOptions, ProviderSession, WwwAuthenticateRequest } from '../../src/extension/auth/providerTypes';
import { SecretStore } from '../../src/extension/auth/tokenCache';
import { makeFakeToken } from './tokens';

export interface ProviderCall {
  providerId: string;
  request: readonly string[] | WwwAuthenticateRequest;
  options: GetSessionOptions;
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
  private issued = 0;

  readonly getSession: GetSession = async (providerId, request, options) => {
    this.calls.push({ providerId, request, options });
    if (this.delayMs) { await new Promise(resolve => setTimeout(resolve, this.delayMs)); }
    if (this.failWith) { throw this.failWith; }
    const interactive = !!options.createIfNone || !!options.forceNewSession;
    if (!this.hasSession && !interactive) {
      return undefined;
    }
    if (interactive && this.interactive === 'cancel') {
      throw new Error('User did not consent to login.');
    }
    this.hasSession = true;
    return this.session(request);
  };

  session(request: readonly string[] | WwwAuthenticateRequest): ProviderSession {
    const scopes = Array.isArray(request) ? request : [...((request as WwwAuthenticateRequest).fallbackScopes ?? [])];
    this.issued++;
    return {
      accessToken: makeFakeToken({
        exp: Math.floor(Date.now() / 1000) + this.lifetimeSeconds,
        tid: '72f988bf-86f1-41af-91ab-2d7cd011db47', upn: 'MeganB@contoso.com', name: 'Megan Bowen', n: this.issued,
        scp: scopes.filter(scope => !scope.startsWith('VSCODE_')).join(' '),
      }),
      account: { id: 'account-megan', label: 'MeganB@contoso.com' },
      scopes,
    };
  }

  interactiveCalls(): ProviderCall[] {
    return this.calls.filter(call => call.options.createIfNone || call.options.forceNewSession);
  }
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
