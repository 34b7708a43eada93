/**
 * The slice of `vscode.authentication` the token service needs, as plain types, so the service
 * runs in plain node under unit tests with a fake provider passed in.
 */
export interface SessionAccount {
  readonly id: string;
  readonly label: string;
}

export interface ProviderSession {
  readonly accessToken: string;
  readonly account: SessionAccount;
  readonly scopes: readonly string[];
}

export interface WwwAuthenticateRequest {
  readonly wwwAuthenticate: string;
  readonly fallbackScopes?: readonly string[];
}

export interface GetSessionOptions {
  silent?: boolean;
  createIfNone?: boolean | { detail?: string };
  forceNewSession?: boolean | { detail?: string };
  clearSessionPreference?: boolean;
  account?: SessionAccount;
}

export type GetSession = (
  providerId: string,
  scopeListOrRequest: readonly string[] | WwwAuthenticateRequest,
  options: GetSessionOptions,
) => PromiseLike<ProviderSession | undefined>;

/** The slice of `vscode.Memento` used to remember sign-out and the chosen account. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}
