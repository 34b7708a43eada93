/**
 * What a remote MCP server says about itself (RFC 9728 protected resource metadata), and what
 * the extension makes of it: an Entra-protected server whose scope we ask VS Code's sign-in for,
 * a server that is its own authorization server (proxy mode: VS Code's OAuth signs in), or a
 * refusal that says why. Plain node: unit-tested without VS Code.
 */
import { parseRemoteUrl } from '../../shared/remoteUrl';
import { networkCause } from '../../shared/networkCause';
import { isWellFormedScope } from '../../shared/scopes';
import { GUID } from '../../shared/tenant';

/** One entry of the `entraMcp.remoteServers` setting. */
export interface RemoteServerEntry {
  readonly label: string;
  readonly url: string;
}

export type Discovery =
  /** Tokens come from VS Code's Microsoft sign-in, for `scope`, served per request through the bridge. */
  | { readonly kind: 'entra'; readonly scope: string; readonly tenant: string; readonly authorizationServer: string; readonly resourceName?: string }
  /** The server is its own authorization server: VS Code's own OAuth handling signs in. */
  | { readonly kind: 'proxy'; readonly authorizationServer: string; readonly resourceName?: string }
  | { readonly kind: 'failed'; readonly reason: DiscoveryFailure; readonly message: string };

export type DiscoveryFailure = 'invalid' | 'unreachable' | 'not-entra' | 'unsafe-scope';

export interface DiscoveryOptions {
  /** The signed-in cloud's Entra sign-in endpoint, e.g. https://login.microsoftonline.com. */
  readonly loginEndpoint: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

const METADATA_PATH = '/.well-known/oauth-protected-resource';
const MAX_METADATA_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Resources a remote server must never be handed a token for, whatever it advertises: Microsoft
 * Graph and Azure Resource Manager, of every cloud, by URI or by application id. A short scope
 * (`User.Read`) means Graph too.
 */
const FIRST_PARTY_RESOURCES = [
  'https://graph.microsoft.com', 'https://graph.microsoft.us', 'https://dod-graph.microsoft.us', 'https://microsoftgraph.chinacloudapi.cn',
  'https://management.azure.com', 'https://management.core.windows.net', 'https://management.usgovcloudapi.net', 'https://management.chinacloudapi.cn',
  '00000003-0000-0000-c000-000000000000', '797f4846-ba00-4fd7-ba43-dac1f8f63013',
];

/** Reads the server's metadata and decides how VS Code reaches it. Never throws. */
export async function discoverRemoteServer(entry: RemoteServerEntry, options: DiscoveryOptions): Promise<Discovery> {
  const url = parseRemoteUrl(entry.url);
  if (typeof url === 'string') {
    return failed('invalid', url);
  }
  let metadata: Record<string, unknown>;
  try {
    metadata = await fetchMetadata(url, options);
  } catch (error) {
    return failed('unreachable', `${url.href} is not reachable or is not an MCP server protected by OAuth (${describe(error)}). ` +
      'Check the URL in entraMcp.remoteServers and your network, then run "Entra MCP: Show Status" to try again.');
  }
  return classify(url, metadata, options.loginEndpoint);
}

/** RFC 9728 §3.1: the path-inserted well-known URL first, then the origin's own. */
async function fetchMetadata(url: URL, options: DiscoveryOptions): Promise<Record<string, unknown>> {
  const path = url.pathname.replace(/\/+$/, '');
  const candidates = [...new Set([`${url.origin}${METADATA_PATH}${path}`, `${url.origin}${METADATA_PATH}`])];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      return await fetchJson(candidate, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function fetchJson(location: string, options: DiscoveryOptions): Promise<Record<string, unknown>> {
  const response = await (options.fetch ?? fetch)(location, {
    headers: { Accept: 'application/json' },
    // The metadata must come from the server itself: a redirect could name another resource.
    redirect: 'error',
    signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} from ${location}`);
  }
  const text = await response.text();
  if (text.length > MAX_METADATA_BYTES) {
    throw new Error('the metadata document is too large');
  }
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('the metadata is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function classify(url: URL, metadata: Record<string, unknown>, loginEndpoint: string): Discovery {
  // RFC 9728 §3.3: metadata naming another resource must not be used (an impersonation attempt).
  if (typeof metadata.resource !== 'string' || !sameResource(metadata.resource, url)) {
    return failed('invalid', `${url.href} published metadata for another resource (${String(metadata.resource).slice(0, 200)}); it is not used.`);
  }
  const servers = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers.filter((value): value is string => typeof value === 'string') : [];
  const resourceName = typeof metadata.resource_name === 'string' ? metadata.resource_name.slice(0, 100) : undefined;
  const entra = servers.map(server => entraTenantOf(server, loginEndpoint)).find(tenant => tenant !== undefined);
  if (entra) {
    const scope = chooseScope(metadata.scopes_supported, url);
    if (typeof scope !== 'string') {
      return scope;
    }
    return { kind: 'entra', scope, tenant: entra.tenant, authorizationServer: entra.server, ...(resourceName ? { resourceName } : {}) };
  }
  const own = servers.find(server => originOf(server) === url.origin);
  if (own) {
    return { kind: 'proxy', authorizationServer: own, ...(resourceName ? { resourceName } : {}) };
  }
  return failed('not-entra', `${url.href} is not an Entra ID protected server of your cloud: it names ` +
    `${servers.length ? servers.map(server => server.slice(0, 200)).join(', ') : 'no authorization server'} instead of ${loginEndpoint}/<tenant>/v2.0. ` +
    'Check the URL, or the sovereign cloud you sign in to (microsoft-sovereign-cloud.environment).');
}

/** `<login endpoint>/<tenant>/v2.0`, the issuer form of Entra's v2 endpoint, for the signed-in cloud only. */
function entraTenantOf(server: string, loginEndpoint: string): { tenant: string; server: string } | undefined {
  const prefix = `${loginEndpoint.replace(/\/+$/, '')}/`;
  if (!server.toLowerCase().startsWith(prefix.toLowerCase())) {
    return undefined;
  }
  const match = /^([A-Za-z0-9.-]{1,253})\/v2\.0\/?$/.exec(server.slice(prefix.length));
  if (!match) {
    return undefined;
  }
  const tenant = match[1];
  return GUID.test(tenant) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenant) ? { tenant, server } : undefined;
}

/**
 * The scope to ask for: the first advertised scope of an API of the server's own, never one of
 * Graph, Resource Manager or a short (Graph) name. A token is only ever minted for the audience
 * the server is.
 */
function chooseScope(advertised: unknown, url: URL): string | Discovery {
  const scopes = Array.isArray(advertised) ? advertised.filter((value): value is string => typeof value === 'string' && isWellFormedScope(value)) : [];
  if (scopes.length === 0) {
    return failed('invalid', `${url.href} advertises no scope (scopes_supported in its protected resource metadata), so there is no token to ask for.`);
  }
  const safe = scopes.find(scope => isOwnApiScope(scope, url));
  if (!safe) {
    return failed('unsafe-scope', `${url.href} asks for ${scopes.slice(0, 3).join(', ')}: a token for another API (such as Microsoft Graph) ` +
      'is never sent to a remote server. Its app registration must expose a scope of its own (api://<client id>/access_as_user).');
  }
  return safe;
}

function isOwnApiScope(scope: string, url: URL): boolean {
  const slash = scope.lastIndexOf('/');
  if (slash <= 0) {
    return false;
  }
  const resource = scope.slice(0, slash).toLowerCase();
  if (FIRST_PARTY_RESOURCES.some(known => resource === known || resource === `api://${known}` || resource.startsWith(`${known}/`))) {
    return false;
  }
  if (resource.startsWith('api://')) {
    return true;
  }
  // An https Application ID URI must be on the server's own domain (Entra accepts only verified domains there).
  const host = hostOf(resource);
  return host !== undefined && (url.hostname === host || url.hostname.endsWith(`.${host}`));
}

function sameResource(resource: string, url: URL): boolean {
  const strip = (value: string) => value.replace(/\/+$/, '');
  return strip(resource) === strip(url.href);
}

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

function hostOf(value: string): string | undefined {
  try {
    const parsed = new URL(value);
    return parsed.protocol === 'https:' ? parsed.hostname : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return networkCause(error).split('\n', 1)[0].slice(0, 200);
}

function failed(reason: DiscoveryFailure, message: string): Discovery {
  return { kind: 'failed', reason, message };
}
