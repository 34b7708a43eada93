/**
 * The user's remote MCP servers (`entraMcp.remoteServers`): what each one is (discovered from
 * its metadata), how its last exchange went, and the tokens the bridge asks for. The scope of a
 * token is the one discovered here, for the URL the user configured; the bridge only names the
 * URL. Plain node: unit-tested without VS Code.
 */
import { GetRemoteTokenParams, GetTokenResult, RemoteOutcomeParams } from '../../shared/protocol';
import { Audit } from '../audit';
import { BrokerError, isBrokerError } from '../auth/brokerError';
import { Discovery, RemoteServerEntry, discoverRemoteServer } from './discovery';

/** VS Code's own application id: an Entra-mode server's app registration must pre-authorize it. */
export const VSCODE_CLIENT_ID = 'aebc6443-996d-45c2-90f0-388ff96faa56';

export interface RemoteServerState {
  readonly entry: RemoteServerEntry;
  /** The snake_case name the bridge gives itself; VS Code prefixes the server's tools with it. */
  readonly name: string;
  readonly discovery?: Discovery;
  readonly lastOutcome?: { readonly ok: boolean; readonly message?: string; readonly at: number };
}

export interface RemoteServersDeps {
  readonly entries: () => readonly RemoteServerEntry[];
  /** The signed-in cloud's Entra endpoint; throws when a custom cloud has none configured. */
  readonly loginEndpoint: () => string;
  /** The token service's getToken: the same sign-in, cache, refresh and sign-out rules as the tools'. */
  readonly getToken: (params: { tool: string; scopes: string[]; wwwAuthenticate?: string; forceRefresh?: boolean }) => Promise<GetTokenResult>;
  /** The configured tenant (`organizations`, a domain or a GUID). */
  readonly tenant: () => string;
  readonly audit: Audit;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/** Entra's answers when the server's app does not trust VS Code's client, or consent is missing. */
const NOT_PRE_AUTHORIZED = /AADSTS65001|AADSTS65002|AADSTS650057|AADSTS90094|AADSTS90008/;

export class RemoteServers {
  private states: RemoteServerState[] = [];
  private discovering: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly discoveryListeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly deps: RemoteServersDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Fires when anything Show Status says changed (a discovery, a call's outcome). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Fires when a discovery finished: what VS Code should register may have changed. */
  onDidDiscover(listener: () => void): { dispose(): void } {
    this.discoveryListeners.add(listener);
    return { dispose: () => this.discoveryListeners.delete(listener) };
  }

  list(): readonly RemoteServerState[] {
    return this.states;
  }

  /** Reads every configured server's metadata again (settings changed, or the user asked). */
  refresh(): Promise<void> {
    const entries = uniqueEntries(this.deps.entries());
    const names = snakeNames(entries.map(entry => entry.label));
    const previous = new Map(this.states.map(state => [state.entry.url, state]));
    this.states = entries.map((entry, index) => ({ entry, name: names[index], discovery: previous.get(entry.url)?.discovery }));
    const run = this.discoverAll().finally(() => {
      if (this.discovering === run) { this.discovering = undefined; }
    });
    this.discovering = run;
    return run;
  }

  /** Waits for a discovery under way, if any. */
  async settled(): Promise<void> {
    await this.discovering;
  }

  private async discoverAll(): Promise<void> {
    let loginEndpoint: string;
    try {
      loginEndpoint = this.deps.loginEndpoint();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.states = this.states.map(state => ({ ...state, discovery: { kind: 'failed', reason: 'invalid', message } }));
      this.fireChange(true);
      return;
    }
    const states = this.states;
    const found = await Promise.all(states.map(state => discoverRemoteServer(state.entry, { loginEndpoint, fetch: this.deps.fetch })));
    if (this.states !== states) {
      return; // a newer refresh replaced this one
    }
    this.states = states.map((state, index) => ({ ...state, discovery: found[index] }));
    for (const [index, discovery] of found.entries()) {
      this.deps.audit({ event: 'remote-discovery', outcome: discovery.kind === 'failed' ? 'failed' : 'ok', detail: `${states[index].entry.url}: ${describeDiscovery(discovery)}` });
    }
    this.fireChange(true);
  }

  /** A token for the configured server at `params.server`, for the scope its metadata advertised. */
  async getRemoteToken(params: GetRemoteTokenParams): Promise<GetTokenResult> {
    const state = this.states.find(candidate => candidate.entry.url === params.server);
    if (!state) {
      throw new BrokerError('ScopeNotAllowed', `${params.server.slice(0, 200)} is not one of your remote servers (entraMcp.remoteServers in your user settings); no token is given for it.`);
    }
    const discovery = state.discovery;
    if (discovery?.kind !== 'entra') {
      throw new BrokerError('TokenUnavailable', discovery?.kind === 'failed'
        ? discovery.message
        : `"${state.entry.label}" is not ready yet: its metadata is still being read. Try again in a moment.`);
    }
    this.checkTenant(state, discovery.tenant);
    try {
      return await this.deps.getToken({
        tool: state.name, scopes: [discovery.scope],
        ...(params.wwwAuthenticate ? { wwwAuthenticate: params.wwwAuthenticate } : {}),
        ...(params.forceRefresh ? { forceRefresh: true } : {}),
      });
    } catch (error) {
      throw this.explain(state, discovery.scope, error);
    }
  }

  /** The bridge reports how its last exchange went; Show Status shows it. */
  recordOutcome(params: RemoteOutcomeParams): void {
    const index = this.states.findIndex(state => state.entry.url === params.server);
    if (index === -1) {
      return;
    }
    this.states = this.states.map((state, at) => at === index
      ? { ...state, lastOutcome: { ok: params.ok, ...(params.message ? { message: params.message } : {}), at: this.now() } }
      : state);
    this.fireChange();
  }

  /** A server of one tenant cannot be reached with a token of another the user pinned. */
  private checkTenant(state: RemoteServerState, serverTenant: string): void {
    const tenant = this.deps.tenant();
    const pinned = /^[0-9a-f-]{36}$/i.test(tenant);
    if (pinned && /^[0-9a-f-]{36}$/i.test(serverTenant) && tenant.toLowerCase() !== serverTenant.toLowerCase()) {
      throw new BrokerError('TokenUnavailable', `"${state.entry.label}" belongs to the tenant ${serverTenant}, but entraMcp.tenant is set to ${tenant}. ` +
        'Select that tenant ("Entra MCP: Select Tenant") to use it.');
    }
  }

  /** Consent and pre-authorization failures say exactly what the server's administrator must change. */
  private explain(state: RemoteServerState, scope: string, error: unknown): unknown {
    if (!isBrokerError(error) || !NOT_PRE_AUTHORIZED.test(error.message)) {
      return error;
    }
    return new BrokerError('TokenUnavailable',
      `VS Code may not sign you in to "${state.entry.label}" (${scope}): the server's app registration does not list VS Code ` +
      `(client id ${VSCODE_CLIENT_ID}) as a pre-authorized client application, and consent was not given. ` +
      'Ask the server\'s administrator to add it under App registrations → the server\'s app → Expose an API → ' +
      `Authorized client applications, for ${scope.slice(scope.lastIndexOf('/') + 1)}. (${error.message.slice(0, 300)})`);
  }

  private fireChange(discovered = false): void {
    for (const listener of [...this.listeners, ...(discovered ? this.discoveryListeners : [])]) {
      listener();
    }
  }
}

/** One line for Show Status and the log. */
export function describeDiscovery(discovery: Discovery | undefined): string {
  switch (discovery?.kind) {
    case undefined: return 'checking…';
    case 'entra': return `Entra ID (tenant ${discovery.tenant}), scope ${discovery.scope}: tools through the broker, a fresh token per request`;
    case 'proxy': return `its own sign-in (${discovery.authorizationServer}): VS Code's MCP OAuth signs you in, not Entra MCP`;
    case 'failed': return discovery.message;
  }
}

/** Entries with a usable label and URL, the first of each URL (a repeated URL would register twice). */
function uniqueEntries(entries: readonly RemoteServerEntry[]): RemoteServerEntry[] {
  const seen = new Set<string>();
  return entries.filter(entry => {
    if (typeof entry?.label !== 'string' || typeof entry.url !== 'string' || !entry.label.trim() || seen.has(entry.url)) {
      return false;
    }
    seen.add(entry.url);
    return true;
  }).map(entry => ({ label: entry.label.trim().slice(0, 100), url: entry.url.trim() }));
}

/** Labels as MCP server names: snake_case, unique, short (VS Code's tool names have a length limit). */
export function snakeNames(labels: readonly string[]): string[] {
  const used = new Set<string>();
  return labels.map(label => {
    let base = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 30) || 'remote';
    if (!/^[a-z]/.test(base)) { base = `r_${base}`; }
    let name = base;
    for (let suffix = 2; used.has(name); suffix++) { name = `${base}_${suffix}`; }
    used.add(name);
    return name;
  });
}

