/**
 * The remote server's configuration: read once at start-up from the environment into a typed,
 * validated object. Anything missing or malformed stops the start with a message naming the
 * variable, so a misconfigured deployment fails its first health check instead of its users.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { CLOUDS, CloudDescription, CloudName } from '../shared/clouds';
import { parseHttpsEndpoint } from '../shared/endpoints';
import { GUID } from '../shared/tenant';
import { ToolSelection } from '../shared/toolCatalogue';
import { DEFAULT_ROLE_MAP, RoleMap, parseRoleMap } from './rbac';

export type ClientCredentialConfig =
  | { readonly kind: 'secret'; readonly secret: string }
  | { readonly kind: 'certificate'; readonly privateKeyPem: string; readonly certificatePem: string }
  | { readonly kind: 'managedIdentity'; readonly clientId: 'system' | string };

export interface TlsConfig {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Proxy mode: the server is its own authorization server in front of Entra ID. */
export interface ProxyConfig {
  /** PKCS#8 PEM (ES256 or RS256) for the access tokens the server issues. */
  readonly signingKeyPem: string;
  /** AES-256 keys for data at rest, newest first. */
  readonly encryptionKeys: readonly Buffer[];
  /** Patterns (`*` = any characters) a registered redirect URI must match. */
  readonly allowedRedirects: readonly string[];
}

export const DEFAULT_ALLOWED_REDIRECTS = ['http://127.0.0.1:*', 'http://localhost:*', 'http://[::1]:*', 'https://*'];

/** A fleet: replicas share state in Redis. */
export interface RedisConfig {
  readonly url: string;
  /** Every key starts with it exactly, so tenants of one Redis do not collide. */
  readonly prefix: string;
  /** AES-256 keys sealing what is stored (ENTRA_MCP_TOKEN_ENCRYPTION_KEY), newest first. */
  readonly encryptionKeys: readonly Buffer[];
}

export interface RemoteConfig {
  /** `entra`: clients bring Entra tokens for our API; `proxy`: clients sign in through this server. */
  readonly authMode: 'entra' | 'proxy';
  readonly proxy?: ProxyConfig;
  readonly redis?: RedisConfig;
  readonly tenantId: string;
  /** The home tenant first, then ENTRA_MCP_ALLOWED_TENANTS. */
  readonly allowedTenants: readonly string[];
  readonly clientId: string;
  readonly credential: ClientCredentialConfig;
  readonly cloud: CloudDescription;
  /** Origin of the Entra authority, without a trailing slash. */
  readonly authorityHost: string;
  readonly graphEndpoint: string;
  readonly armEndpoint: string;
  /** The MCP endpoint as clients reach it: the `resource` of the protected resource metadata. */
  readonly publicUrl: URL;
  /** False when publicUrl was derived from the loopback address (its port follows the bound one). */
  readonly publicUrlGiven: boolean;
  /** The delegated scope an incoming token must carry in `scp`. */
  readonly scope: string;
  readonly requireRoles: boolean;
  readonly roles: RoleMap;
  readonly tools: ToolSelection;
  /** Requests per minute per user; 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Clock skew tolerated on a token's exp and nbf, in seconds (at most 300). */
  readonly clockSkewSeconds: number;
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsConfig;
  readonly trustProxy: boolean;
  /** Browser origins allowed to call (CORS); empty: none beyond the public URL's own. */
  readonly corsOrigins: readonly string[];
}

/** Every setting, for `--help`, the README and start-up errors. */
export const REMOTE_SETTINGS: ReadonlyArray<{ readonly name: string; readonly meaning: string }> = [
  { name: 'ENTRA_MCP_TENANT_ID', meaning: 'required: the tenant (GUID) whose users may call' },
  { name: 'ENTRA_MCP_ALLOWED_TENANTS', meaning: 'optional comma list of further tenant GUIDs (multi-tenant app)' },
  { name: 'ENTRA_MCP_CLIENT_ID', meaning: 'required: the server\'s app registration (token audience and On-Behalf-Of client)' },
  { name: 'ENTRA_MCP_MANAGED_IDENTITY', meaning: '`system` or a user-assigned identity\'s client id: a federated credential, no secret (recommended)' },
  { name: 'ENTRA_MCP_CLIENT_CERTIFICATE', meaning: 'path of one PEM file: the PKCS#8 private key followed by the certificate' },
  { name: 'ENTRA_MCP_CLIENT_SECRET', meaning: 'a client secret (exactly one of these three credentials)' },
  { name: 'ENTRA_MCP_CLOUD', meaning: '`AzureCloud` (default), `AzureUSGovernment` or `AzureChinaCloud`' },
  { name: 'ENTRA_MCP_AUTHORITY_HOST', meaning: 'Entra authority host; default from the cloud (https://login.microsoftonline.com)' },
  { name: 'ENTRA_MCP_GRAPH_ENDPOINT', meaning: 'Microsoft Graph base URL; default from the cloud' },
  { name: 'ENTRA_MCP_ARM_ENDPOINT', meaning: 'Azure Resource Manager base URL; default from the cloud' },
  { name: 'ENTRA_MCP_PUBLIC_URL', meaning: 'the MCP endpoint as clients reach it, e.g. https://mcp.contoso.com/mcp (required unless on loopback)' },
  { name: 'ENTRA_MCP_SCOPE', meaning: 'delegated scope the app exposes and a token must carry; default access_as_user' },
  { name: 'ENTRA_MCP_REQUIRE_ROLES', meaning: 'default true: a user needs an app role to see or call a tool' },
  { name: 'ENTRA_MCP_ROLES', meaning: 'optional JSON mapping app roles to tool names or patterns; default {"Tools.Read":<read tools>,"Tools.Write":<write tools>}' },
  { name: 'ENTRA_MCP_ALLOW_WRITES', meaning: '`true` lists the write tools (default false)' },
  { name: 'ENTRA_MCP_ENABLED_TOOLS', meaning: 'comma list of tool names or `*` patterns to serve; empty serves all' },
  { name: 'ENTRA_MCP_CLOCK_SKEW_SECONDS', meaning: 'clock skew tolerated on a token\'s exp and nbf; default 300 (the most), 0 = none' },
  { name: 'ENTRA_MCP_RATE_LIMIT', meaning: 'requests per minute per user; default 120; 0 = off' },
  { name: 'ENTRA_MCP_HOST', meaning: 'address to bind; default 127.0.0.1' },
  { name: 'ENTRA_MCP_PORT', meaning: 'port; default 8080 (PORT is honoured too)' },
  { name: 'ENTRA_MCP_TLS_CERT', meaning: 'PEM certificate file: serve HTTPS (with ENTRA_MCP_TLS_KEY)' },
  { name: 'ENTRA_MCP_TLS_KEY', meaning: 'PEM private key file for ENTRA_MCP_TLS_CERT' },
  { name: 'ENTRA_MCP_TRUST_PROXY', meaning: '`true` behind a TLS-terminating proxy: plain HTTP off loopback, X-Forwarded-* trusted' },
  { name: 'ENTRA_MCP_CORS_ORIGINS', meaning: 'optional comma list of browser origins allowed to call (CORS); default none' },
  { name: 'ENTRA_MCP_AUTH_MODE', meaning: '`entra` (default: clients sign in to Entra for this API) or `proxy` (this server is the authorization server, for any MCP client)' },
  { name: 'ENTRA_MCP_SIGNING_KEY', meaning: 'proxy mode: the PEM text (PKCS#8, ES256 or RS256) of the key that signs the access tokens the server issues' },
  { name: 'ENTRA_MCP_TOKEN_ENCRYPTION_KEY', meaning: 'proxy mode: base64 of 32 random bytes encrypting stored tokens and sessions; a comma list (newest first) rotates' },
  { name: 'ENTRA_MCP_ALLOWED_REDIRECTS', meaning: 'proxy mode: comma list of patterns client redirect URIs must match; default loopback http and any https' },
  { name: 'ENTRA_MCP_REDIS_URL', meaning: 'optional redis:// or rediss:// URL (with auth): replicas share tokens, rate limits and proxy state there; needs ENTRA_MCP_TOKEN_ENCRYPTION_KEY' },
  { name: 'ENTRA_MCP_REDIS_PREFIX', meaning: 'prefix of every Redis key; default entra-mcp:' },
];

/** Thrown for a bad setting; the message names it and says what to set. */
export class ConfigError extends Error {}

const SCOPE_NAME = /^[A-Za-z0-9._-]{1,120}$/;
const DEFAULT_AUTHORITY_HOSTS: Readonly<Record<Exclude<CloudName, 'custom'>, string>> = {
  AzureCloud: 'https://login.microsoftonline.com',
  AzureUSGovernment: 'https://login.microsoftonline.us',
  AzureChinaCloud: 'https://login.chinacloudapi.cn',
};

export function readRemoteConfig(env: NodeJS.ProcessEnv): RemoteConfig {
  const tenantId = guid(env, 'ENTRA_MCP_TENANT_ID', true) as string;
  const cloud = readCloud(env);
  const host = text(env, 'ENTRA_MCP_HOST') ?? '127.0.0.1';
  const port = readPort(env);
  const tls = readTls(env);
  const trustProxy = flag(env, 'ENTRA_MCP_TRUST_PROXY', false);
  refusePlainHttpOffLoopback(host, tls, trustProxy);
  const tools: ToolSelection = {
    allowWrites: flag(env, 'ENTRA_MCP_ALLOW_WRITES', false),
    enabledTools: list(env, 'ENTRA_MCP_ENABLED_TOOLS'),
  };
  const roles = env.ENTRA_MCP_ROLES?.trim() ? parseRoleMap(env.ENTRA_MCP_ROLES, 'ENTRA_MCP_ROLES') : DEFAULT_ROLE_MAP;
  const authMode = readAuthMode(env);
  return {
    authMode,
    proxy: authMode === 'proxy' ? readProxy(env) : undefined,
    redis: readRedis(env),
    tenantId,
    allowedTenants: [tenantId, ...list(env, 'ENTRA_MCP_ALLOWED_TENANTS').map(value => checkedGuid(value, 'ENTRA_MCP_ALLOWED_TENANTS'))],
    clientId: guid(env, 'ENTRA_MCP_CLIENT_ID', true) as string,
    credential: readCredential(env),
    cloud,
    authorityHost: endpoint(env, 'ENTRA_MCP_AUTHORITY_HOST', DEFAULT_AUTHORITY_HOSTS[cloud.name as Exclude<CloudName, 'custom'>], true),
    graphEndpoint: endpoint(env, 'ENTRA_MCP_GRAPH_ENDPOINT', cloud.graphEndpoint),
    armEndpoint: endpoint(env, 'ENTRA_MCP_ARM_ENDPOINT', cloud.armEndpoint),
    publicUrl: readPublicUrl(env, host, port, tls !== undefined),
    publicUrlGiven: text(env, 'ENTRA_MCP_PUBLIC_URL') !== undefined,
    scope: readScope(env),
    requireRoles: flag(env, 'ENTRA_MCP_REQUIRE_ROLES', true),
    roles,
    tools,
    rateLimitPerMinute: integer(env, 'ENTRA_MCP_RATE_LIMIT', 120, 0, 100_000),
    clockSkewSeconds: integer(env, 'ENTRA_MCP_CLOCK_SKEW_SECONDS', 300, 0, 300),
    host,
    port,
    tls,
    trustProxy,
    corsOrigins: list(env, 'ENTRA_MCP_CORS_ORIGINS').map(origin => readOrigin(origin)),
  };
}

function readAuthMode(env: NodeJS.ProcessEnv): 'entra' | 'proxy' {
  const mode = text(env, 'ENTRA_MCP_AUTH_MODE') ?? 'entra';
  if (mode !== 'entra' && mode !== 'proxy') {
    throw new ConfigError(`ENTRA_MCP_AUTH_MODE must be entra or proxy, not "${mode}".`);
  }
  return mode;
}

function readProxy(env: NodeJS.ProcessEnv): ProxyConfig {
  const signingKeyPem = env.ENTRA_MCP_SIGNING_KEY?.trim();
  if (!signingKeyPem || !/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----$/.test(signingKeyPem)) {
    throw new ConfigError('ENTRA_MCP_SIGNING_KEY is required in proxy mode: the PEM text (not a path) of a PKCS#8 private key, ' +
      'e.g. from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.');
  }
  const keys = readEncryptionKeys(env, 'in proxy mode');
  const allowedRedirects = list(env, 'ENTRA_MCP_ALLOWED_REDIRECTS');
  return { signingKeyPem, encryptionKeys: keys, allowedRedirects: allowedRedirects.length ? allowedRedirects : DEFAULT_ALLOWED_REDIRECTS };
}

function readEncryptionKeys(env: NodeJS.ProcessEnv, when: string): Buffer[] {
  const keys = list(env, 'ENTRA_MCP_TOKEN_ENCRYPTION_KEY').map(value => Buffer.from(value, 'base64'));
  if (keys.length === 0 || keys.some(key => key.length !== 32)) {
    throw new ConfigError(`ENTRA_MCP_TOKEN_ENCRYPTION_KEY is required ${when}: base64 of 32 random bytes ` +
      '(`openssl rand -base64 32`), or a comma list of them, newest first.');
  }
  return keys;
}

function readRedis(env: NodeJS.ProcessEnv): RedisConfig | undefined {
  const url = text(env, 'ENTRA_MCP_REDIS_URL');
  if (!url) {
    return undefined;
  }
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError('ENTRA_MCP_REDIS_URL must be a redis:// or rediss:// URL, e.g. rediss://:<access key>@contoso.redis.cache.windows.net:6380');
  }
  const prefix = text(env, 'ENTRA_MCP_REDIS_PREFIX') ?? 'entra-mcp:';
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('ENTRA_MCP_REDIS_PREFIX may hold only letters, digits and . _ : - (at most 64).');
  }
  return { url, prefix, encryptionKeys: readEncryptionKeys(env, 'with ENTRA_MCP_REDIS_URL (what replicas share is stored encrypted)') };
}

/** Whether an address is loopback: the only place plain HTTP is served without a proxy in front. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

function refusePlainHttpOffLoopback(host: string, tls: TlsConfig | undefined, trustProxy: boolean): void {
  if (!tls && !trustProxy && !isLoopbackHost(host)) {
    throw new ConfigError(`ENTRA_MCP_HOST is ${host}, which is not a loopback address, and no TLS is configured: ` +
      'bearer tokens would travel in clear text. Set ENTRA_MCP_TLS_CERT and ENTRA_MCP_TLS_KEY, or, behind a proxy that ' +
      'terminates TLS (Container Apps ingress, API Management), set ENTRA_MCP_TRUST_PROXY=true.');
  }
}

function readCredential(env: NodeJS.ProcessEnv): ClientCredentialConfig {
  const given = ['ENTRA_MCP_CLIENT_SECRET', 'ENTRA_MCP_CLIENT_CERTIFICATE', 'ENTRA_MCP_MANAGED_IDENTITY'].filter(name => text(env, name));
  if (given.length !== 1) {
    throw new ConfigError(given.length === 0
      ? 'No credential for On-Behalf-Of: set ENTRA_MCP_MANAGED_IDENTITY (recommended: a federated credential, no secret), ' +
        'ENTRA_MCP_CLIENT_CERTIFICATE or ENTRA_MCP_CLIENT_SECRET.'
      : `Set exactly one credential; found ${given.join(' and ')}.`);
  }
  const secret = text(env, 'ENTRA_MCP_CLIENT_SECRET');
  if (secret) {
    return { kind: 'secret', secret };
  }
  const certificatePath = text(env, 'ENTRA_MCP_CLIENT_CERTIFICATE');
  if (certificatePath) {
    return { kind: 'certificate', ...readCertificatePem(certificatePath) };
  }
  const identity = text(env, 'ENTRA_MCP_MANAGED_IDENTITY') as string;
  if (identity !== 'system' && !GUID.test(identity)) {
    throw new ConfigError('ENTRA_MCP_MANAGED_IDENTITY must be `system` or the client id (GUID) of a user-assigned managed identity.');
  }
  return { kind: 'managedIdentity', clientId: identity.toLowerCase() };
}

function readCertificatePem(path: string): { privateKeyPem: string; certificatePem: string } {
  const pem = readFile(path, 'ENTRA_MCP_CLIENT_CERTIFICATE').toString('utf8');
  const privateKeyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!privateKeyPem || !certificatePem) {
    throw new ConfigError('ENTRA_MCP_CLIENT_CERTIFICATE must be one PEM file holding the PKCS#8 private key ' +
      '(-----BEGIN PRIVATE KEY-----) followed by the certificate (-----BEGIN CERTIFICATE-----). ' +
      'Convert a PFX with: openssl pkcs12 -in cert.pfx -nodes -out cert.pem');
  }
  return { privateKeyPem, certificatePem };
}

function readTls(env: NodeJS.ProcessEnv): TlsConfig | undefined {
  const certPath = text(env, 'ENTRA_MCP_TLS_CERT');
  const keyPath = text(env, 'ENTRA_MCP_TLS_KEY');
  if (!certPath && !keyPath) {
    return undefined;
  }
  if (!certPath || !keyPath) {
    throw new ConfigError(`Set both ENTRA_MCP_TLS_CERT and ENTRA_MCP_TLS_KEY to serve HTTPS; only ${certPath ? 'ENTRA_MCP_TLS_CERT' : 'ENTRA_MCP_TLS_KEY'} is set.`);
  }
  return { cert: readFile(certPath, 'ENTRA_MCP_TLS_CERT'), key: readFile(keyPath, 'ENTRA_MCP_TLS_KEY') };
}

function readFile(path: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
}

function readCloud(env: NodeJS.ProcessEnv): CloudDescription {
  const name = text(env, 'ENTRA_MCP_CLOUD') ?? 'AzureCloud';
  if (name === 'custom' || !(name in CLOUDS)) {
    throw new ConfigError(`ENTRA_MCP_CLOUD must be AzureCloud, AzureUSGovernment or AzureChinaCloud, not "${name}". ` +
      'For another cloud keep AzureCloud and set ENTRA_MCP_AUTHORITY_HOST, ENTRA_MCP_GRAPH_ENDPOINT and ENTRA_MCP_ARM_ENDPOINT.');
  }
  return CLOUDS[name as CloudName];
}

function readPublicUrl(env: NodeJS.ProcessEnv, host: string, port: number, tls: boolean): URL {
  const value = text(env, 'ENTRA_MCP_PUBLIC_URL');
  if (!value) {
    if (!isLoopbackHost(host)) {
      throw new ConfigError('ENTRA_MCP_PUBLIC_URL is required off loopback: the URL of the MCP endpoint as clients reach it, ' +
        'e.g. https://mcp.contoso.com/mcp. Clients check that the protected resource metadata names exactly that URL.');
    }
    const hostPart = host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host;
    return new URL(`${tls ? 'https' : 'http'}://${hostPart}:${port}/mcp`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`ENTRA_MCP_PUBLIC_URL is not a URL ("${value}"); use e.g. https://mcp.contoso.com/mcp.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError('ENTRA_MCP_PUBLIC_URL must be an https:// URL (plain http only on loopback): clients send their tokens to it.');
  }
  if (url.search || url.hash || url.username || url.password || url.pathname !== '/mcp') {
    throw new ConfigError(`ENTRA_MCP_PUBLIC_URL must be the MCP endpoint itself, ending in /mcp, without query or credentials ("${value}").`);
  }
  return url;
}

function readScope(env: NodeJS.ProcessEnv): string {
  const scope = text(env, 'ENTRA_MCP_SCOPE') ?? 'access_as_user';
  if (!SCOPE_NAME.test(scope)) {
    throw new ConfigError(`ENTRA_MCP_SCOPE must be the bare name of the scope your app exposes (e.g. access_as_user), not "${scope}".`);
  }
  return scope;
}

function readPort(env: NodeJS.ProcessEnv): number {
  if (text(env, 'ENTRA_MCP_PORT')) {
    return integer(env, 'ENTRA_MCP_PORT', 8080, 0, 65535);
  }
  return integer(env, 'PORT', 8080, 0, 65535);
}

function readOrigin(value: string): string {
  try {
    const url = new URL(value);
    if (url.origin === 'null' || url.pathname !== '/' || url.search) { throw new Error('not an origin'); }
    return url.origin;
  } catch {
    throw new ConfigError(`ENTRA_MCP_CORS_ORIGINS: "${value}" is not an origin such as https://app.contoso.com.`);
  }
}

function endpoint(env: NodeJS.ProcessEnv, name: string, fallback: string, originOnly = false): string {
  const value = text(env, name) ?? fallback;
  try {
    const parsed = parseHttpsEndpoint(value, name);
    if (originOnly && new URL(parsed).pathname !== '/') {
      throw new ConfigError(`${name} must be a host only, such as https://login.microsoftonline.com, without a path or tenant.`);
    }
    return originOnly ? new URL(parsed).origin : parsed;
  } catch (error) {
    throw error instanceof ConfigError ? error : new ConfigError((error as Error).message);
  }
}

function guid(env: NodeJS.ProcessEnv, name: string, required: boolean): string | undefined {
  const value = text(env, name);
  if (!value) {
    if (required) {
      const meaning = REMOTE_SETTINGS.find(setting => setting.name === name)?.meaning.replace(/^required: /, '') ?? '';
      throw new ConfigError(`${name} is not set: it is ${meaning}. Run with --help for every setting.`);
    }
    return undefined;
  }
  return checkedGuid(value, name);
}

function checkedGuid(value: string, name: string): string {
  if (!GUID.test(value)) {
    throw new ConfigError(`${name} must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, not "${value}" (domains are not accepted: tokens carry the tenant id).`);
  }
  return value.toLowerCase();
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) { return fallback; }
  if (value === 'true' || value === '1') { return true; }
  if (value === 'false' || value === '0') { return false; }
  throw new ConfigError(`${name} must be true or false, not "${value}".`);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) { return fallback; }
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return Number(value);
}

function list(env: NodeJS.ProcessEnv, name: string): string[] {
  return (text(env, name) ?? '').split(',').map(item => item.trim()).filter(Boolean);
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** `--help`: every setting, one line each. */
export function helpText(): string {
  const width = Math.max(...REMOTE_SETTINGS.map(setting => setting.name.length));
  return [
    'entra-mcp-server: the Entra MCP tools over Streamable HTTP, protected by Entra ID, calling Microsoft Graph and',
    'Azure Resource Manager on behalf of each signed-in user.',
    '',
    'Usage: node dist/remote.js [--help] [--version]   (configuration by environment variables)',
    '',
    ...REMOTE_SETTINGS.map(setting => `  ${setting.name.padEnd(width)}  ${setting.meaning}`),
    '',
    'Endpoints: POST /mcp, GET /.well-known/oauth-protected-resource[/mcp], GET /healthz, GET /readyz;',
    'in proxy mode also /authorize, /token, /register, /revoke, /jwks, /auth/callback and',
    'GET /.well-known/oauth-authorization-server (and /.well-known/openid-configuration).',
  ].join('\n');
}
