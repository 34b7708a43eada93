/**
 * The extension's settings, read fresh each time (VS Code caches configuration) and resolved
 * into what the token service and the server need.
 */
import * as vscode from 'vscode';
import { ProxySettings } from '../shared/proxyEnv';
import { CloudDescription, cloudFromSovereignSetting } from '../shared/clouds';
import { parseHttpsEndpoint } from '../shared/endpoints';
import { isWellFormedScope } from '../shared/scopes';
import { ToolSelection } from '../shared/toolCatalogue';
import { AuthSettings } from './auth/tokenService';
import { RemoteServerEntry } from './remote/discovery';

export const SECTION = 'entraMcp';

/**
 * Every setting that decides where a token goes or what it may do. package.json declares them
 * `application` or `machine` scoped (and restricted in untrusted workspaces), so VS Code takes
 * them from the user's own settings only; they are also read here from user values alone, so a
 * cloned repository's .vscode/settings.json can never redirect or widen a token.
 */
export const USER_ONLY_SETTINGS = [
  'tenant', 'clientId', 'promptForSignIn', 'additionalScopes', 'allowWrites', 'enabledTools', 'graphEndpoint', 'armEndpoint',
  'loginEndpoint', 'remoteServers',
] as const;
type UserOnlySetting = typeof USER_ONLY_SETTINGS[number];

/** Called once per setting whose workspace value was ignored (the log says so). */
let reportIgnored: (setting: string) => void = () => {};
const reported = new Set<string>();

/** Where ignored workspace values are reported: the extension's log. */
export function onIgnoredWorkspaceSetting(report: (setting: string) => void): void {
  reportIgnored = report;
}

export interface ExtensionSettings extends AuthSettings {
  readonly additionalScopes: readonly string[];
  /** Raw endpoint overrides; resolve with serviceEndpoints(). */
  readonly graphEndpointOverride: string;
  readonly armEndpointOverride: string;
  readonly loginEndpointOverride: string;
  readonly tools: ToolSelection;
  /** The organization's remote MCP servers, as the user listed them. */
  readonly remoteServers: readonly RemoteServerEntry[];
}

export function readSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const get = <T>(key: UserOnlySetting, fallback: T): T => userValue(config, `${SECTION}.${key}`, key, fallback);
  const sovereign = userValue(vscode.workspace.getConfiguration('microsoft-sovereign-cloud'), 'microsoft-sovereign-cloud.environment', 'environment', '');
  const clientId = get('clientId', '').trim();
  return {
    cloud: cloudFromSovereignSetting(sovereign || undefined),
    tenant: get('tenant', 'organizations').trim() || 'organizations',
    clientId: clientId || undefined,
    promptForSignIn: get('promptForSignIn', true),
    additionalScopes: get<string[]>('additionalScopes', []).filter(isWellFormedScope),
    graphEndpointOverride: get('graphEndpoint', '').trim(),
    armEndpointOverride: get('armEndpoint', '').trim(),
    loginEndpointOverride: get('loginEndpoint', '').trim(),
    tools: {
      allowWrites: get('allowWrites', false),
      enabledTools: get<string[]>('enabledTools', []).map(name => name.trim()).filter(Boolean),
    },
    remoteServers: get<RemoteServerEntry[]>('remoteServers', []).filter(isRemoteServerEntry),
  };
}

/**
 * A setting's value from the user's (or remote machine's) settings or its default, never from
 * the workspace: VS Code already drops workspace values of application and machine settings,
 * and this holds even if a future manifest edit forgot the scope.
 */
function userValue<T>(config: vscode.WorkspaceConfiguration, fullName: string, key: string, fallback: T): T {
  const inspected = config.inspect<T>(key);
  if (inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined) {
    if (!reported.has(fullName)) {
      reported.add(fullName);
      reportIgnored(fullName);
    }
  }
  const value = inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
  return typeof value === typeof fallback && Array.isArray(value) === Array.isArray(fallback) ? value : fallback;
}

export interface ServiceEndpoints {
  readonly graph: string;
  readonly arm: string;
}

/** Graph and ARM base URLs: the overrides if set (https only), else the cloud's own. */
export function serviceEndpoints(settings: ExtensionSettings): ServiceEndpoints {
  return {
    graph: endpoint(settings.graphEndpointOverride, settings.cloud, 'graphEndpoint'),
    arm: endpoint(settings.armEndpointOverride, settings.cloud, 'armEndpoint'),
  };
}

/** Entra's sign-in endpoint remote servers must name: the override if set (https only), else the cloud's. */
export function loginEndpoint(settings: ExtensionSettings): string {
  return endpoint(settings.loginEndpointOverride, settings.cloud, 'loginEndpoint');
}

function isRemoteServerEntry(value: unknown): value is RemoteServerEntry {
  const entry = value as Partial<RemoteServerEntry> | undefined;
  return typeof entry?.label === 'string' && typeof entry.url === 'string';
}

function endpoint(override: string, cloud: CloudDescription, key: 'graphEndpoint' | 'armEndpoint' | 'loginEndpoint'): string {
  if (override) {
    return parseHttpsEndpoint(override, `${SECTION}.${key}`);
  }
  if (!cloud[key]) {
    throw new Error(`VS Code is set to a custom sovereign cloud; set ${SECTION}.${key} to its https:// endpoint.`);
  }
  return cloud[key];
}

/**
 * VS Code's own proxy settings, which the bundled server follows for Graph and Azure. Like every
 * setting that decides where requests go, only the user's value counts, never a workspace's.
 */
export function readProxySettings(): ProxySettings {
  const http = vscode.workspace.getConfiguration('http');
  return {
    proxy: String(userValue(http, 'http.proxy', 'proxy', '') ?? ''),
    noProxy: (userValue<unknown[]>(http, 'http.noProxy', 'noProxy', []) ?? []).filter((host): host is string => typeof host === 'string'),
    authorization: String(userValue<unknown>(http, 'http.proxyAuthorization', 'proxyAuthorization', '') ?? ''),
  };
}

/** VS Code's `http.systemCertificates` (default true): whether the server trusts the OS's roots too. Only the user's value counts. */
export function readSystemCertificatesSetting(): boolean {
  return userValue<boolean>(vscode.workspace.getConfiguration('http'), 'http.systemCertificates', 'systemCertificates', true) !== false;
}

/** Settings whose change means the server must be restarted with a new definition. */
export function affectsServerDefinition(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.graphEndpoint`)
    || event.affectsConfiguration('http.proxy')
    || event.affectsConfiguration('http.noProxy')
    || event.affectsConfiguration('http.proxyAuthorization')
    || event.affectsConfiguration('http.systemCertificates')
    || event.affectsConfiguration(`${SECTION}.armEndpoint`)
    || event.affectsConfiguration(`${SECTION}.allowWrites`)
    || event.affectsConfiguration(`${SECTION}.enabledTools`)
    || event.affectsConfiguration('microsoft-sovereign-cloud.environment');
}

/** Settings whose change means the remote servers are discovered again. */
export function affectsRemoteServers(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.remoteServers`)
    || event.affectsConfiguration(`${SECTION}.loginEndpoint`)
    || event.affectsConfiguration('microsoft-sovereign-cloud.environment');
}

/** Settings whose change invalidates every cached token. */
export function affectsTokens(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.tenant`)
    || event.affectsConfiguration(`${SECTION}.clientId`)
    || event.affectsConfiguration('microsoft-sovereign-cloud');
}
