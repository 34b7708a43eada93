/**
 * Puts the remote server together from its configuration: token validator, On-Behalf-Of token
 * source, the shared MCP server, the front door. The entry (main.ts) and the tests start it the
 * same way.
 */
import * as http from 'node:http';
import type { Redis } from 'ioredis';
import { AuditLog } from './audit';
import { credentialOptions } from './clientCredential';
import { RemoteConfig, isLoopbackHost } from './config';
import { DelegatedOptions, DelegatedTokenSource } from './delegatedTokenSource';
import { RedisAuthStore } from './fleet/redisAuthStore';
import { connectRedis, isRedisReady } from './fleet/redisConnection';
import { RedisSharedTokens, SharedTokens } from './fleet/sharedTokens';
import { FrontDoor, TokenCheck, listen } from './httpServer';
import { EntraApp } from './msalApplication';
import { OboTokenSource } from './oboTokenSource';
import { authRoutes } from './proxy/authRoutes';
import { AuthStore, MemoryAuthStore } from './proxy/authStore';
import { ClientRegistry } from './proxy/clientRegistry';
import { EntraSessions } from './proxy/entraSessions';
import { Grants } from './proxy/grants';
import { IssuedTokens } from './proxy/issuedTokens';
import { ProxyProvider } from './proxy/proxyProvider';
import { SealedBox } from './proxy/sealedBox';
import { UserRateLimiter } from './rateLimit';
import { ToolAccess } from './rbac';
import { RemoteMcp, createRemoteMcp } from './remoteMcp';
import { EntraTokenValidator } from './tokenValidator';

export interface RunningRemoteServer {
  readonly server: http.Server;
  readonly port: number;
  readonly tokens: DelegatedTokenSource;
  /** Proxy mode's store (tests look inside it for plaintext tokens). */
  readonly authStore?: MemoryAuthStore;
  /** Waits until signing keys are loaded (`/readyz` is 200). */
  readonly ready: Promise<void>;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Timings tests shorten; deployments keep the defaults. */
export interface RemoteTuning {
  readonly jwksCooldownMs?: number;
  /** The authorization server store's clock (tests move it to expire codes). */
  readonly now?: () => number;
  /** Every MCP message through the SDK's transport (tests compare it with the direct answers). */
  readonly sdkTransportOnly?: boolean;
}

/** How callers authenticate and where tools' tokens come from: the part that differs between the modes. */
interface AuthMode {
  readonly tokens: DelegatedTokenSource;
  readonly validator: TokenCheck & { start(onError: (error: Error) => void): Promise<void>; stop(): void };
  /** Proxy mode: the authorization server's routes, once the tools are known. */
  authRoutes?(mcp: RemoteMcp): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly authStore?: MemoryAuthStore;
}

/** The fleet's Redis, when configured: shared tokens, rate limits and proxy state. */
interface Fleet {
  readonly redis: Redis;
  readonly box: SealedBox;
  readonly shared: SharedTokens;
}

export async function startRemoteServer(givenConfig: RemoteConfig, audit: AuditLog, version: string, tuning: RemoteTuning = {}): Promise<RunningRemoteServer> {
  const { server, port } = await listen(givenConfig);
  const config = withBoundPort(givenConfig, port);
  const access = new ToolAccess(config.roles, config.requireRoles);
  const fleet = config.redis ? connectFleet(config.redis, audit) : undefined;
  const mode = config.authMode === 'proxy' ? await proxyMode(config, audit, tuning, fleet) : entraMode(config, tuning, fleet, audit);
  const { tokens, validator } = mode;
  const mcp = await createRemoteMcp({
    tokens, graphEndpoint: config.graphEndpoint, armEndpoint: config.armEndpoint, selection: config.tools, access, version,
  });
  const frontDoor = new FrontDoor({
    config, validator, mcp, access, limiter: new UserRateLimiter(config.rateLimitPerMinute, fleet?.redis), audit, authRoutes: mode.authRoutes?.(mcp),
    sharedState: fleet ? () => isRedisReady(fleet.redis) : undefined, sdkTransportOnly: tuning.sdkTransportOnly,
  });
  server.on('request', frontDoor.handle);
  audit.event('listening', { url: config.publicUrl.href, port, tls: config.tls !== undefined, tools: mcp.toolNames.length, credential: config.credential.kind, authMode: config.authMode });
  const ready = validator.start(error => audit.event('signing_keys_unavailable', { message: describeNetworkError(error) }, 'warn'))
    .then(() => audit.event('ready', { authorizationServer: validator.authorizationServer }));
  const close = async (graceMs = 25_000) => {
    validator.stop();
    const closed = new Promise<void>(resolve => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (frontDoor.inFlight > 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    server.closeAllConnections();
    await closed;
    await mcp.server.close();
    fleet?.redis.disconnect();
  };
  return { server, port, tokens, authStore: mode.authStore, ready, close };
}

function entraApp(config: RemoteConfig): EntraApp {
  return { authorityHost: config.authorityHost, clientId: config.clientId, credential: credentialOptions(config.credential, config.cloud.name) };
}

function connectFleet(redis: NonNullable<RemoteConfig['redis']>, audit: AuditLog): Fleet {
  const client = connectRedis(redis.url, redis.prefix, (event, detail) =>
    audit.event(`redis_${event}`, detail ? { detail } : {}, event === 'ready' ? 'info' : 'warn'));
  const box = new SealedBox(redis.encryptionKeys);
  return { redis: client, box, shared: new RedisSharedTokens(client, box) };
}

/** The shared cache's part of a token source: failures degrade the server (logged once a minute at most). */
function sharing(fleet: Fleet | undefined, audit: AuditLog): Pick<DelegatedOptions, 'shared' | 'onSharedFailure'> {
  if (!fleet) {
    return {};
  }
  let lastLogged = 0;
  return {
    shared: fleet.shared,
    onSharedFailure: error => {
      if (Date.now() - lastLogged > 60_000) {
        lastLogged = Date.now();
        audit.event('shared_cache_unavailable', { message: error.message }, 'warn');
      }
    },
  };
}

/** Entra mode: clients bring Entra tokens for our API; tools' tokens come On-Behalf-Of them. */
function entraMode(config: RemoteConfig, tuning: RemoteTuning, fleet: Fleet | undefined, audit: AuditLog): AuthMode {
  return {
    tokens: new OboTokenSource({
      ...entraApp(config), tenantId: config.tenantId, cloud: config.cloud, armEndpoint: config.armEndpoint, tools: config.tools, ...sharing(fleet, audit),
    }),
    validator: new EntraTokenValidator({
      authorityHost: config.authorityHost, tenantId: config.tenantId, allowedTenants: config.allowedTenants,
      clientId: config.clientId, scope: config.scope, jwksCooldownMs: tuning.jwksCooldownMs, clockToleranceSeconds: config.clockSkewSeconds,
    }),
  };
}

/** Proxy mode: this server is the authorization server; tools' tokens come from each user's stored Entra session. */
async function proxyMode(config: RemoteConfig, audit: AuditLog, tuning: RemoteTuning, fleet: Fleet | undefined): Promise<AuthMode> {
  const proxy = config.proxy as NonNullable<RemoteConfig['proxy']>;
  const issuer = config.publicUrl.origin;
  const box = new SealedBox(proxy.encryptionKeys);
  const memory = fleet ? undefined : new MemoryAuthStore(tuning.now);
  const store: AuthStore = fleet ? new RedisAuthStore(fleet.redis) : memory as MemoryAuthStore;
  const issued = await IssuedTokens.create(proxy.signingKeyPem, issuer, config.publicUrl.href);
  const sessions = new EntraSessions({
    app: entraApp(config), signInTenant: config.allowedTenants.length > 1 ? 'organizations' : config.tenantId,
    allowedTenants: config.allowedTenants, redirectUri: `${issuer}/auth/callback`,
  }, store, box);
  const registry = new ClientRegistry(store, box, { allowedRedirects: proxy.allowedRedirects, allowPrivateMetadataHosts: isLoopbackHost(config.host) });
  return {
    tokens: new DelegatedTokenSource({
      exchange: sessions.exchange, tenantId: config.tenantId, cloud: config.cloud, armEndpoint: config.armEndpoint, tools: config.tools, ...sharing(fleet, audit),
    }),
    validator: Object.assign(issued, { start: async () => undefined, stop: () => undefined }),
    authStore: memory,
    authRoutes: mcp => authRoutes({
      provider: new ProxyProvider({
        registry, grants: new Grants(store, box), sessions, tokens: issued, box, audit, resource: config.publicUrl,
        authorityOrigin: config.authorityHost, serverName: 'Entra MCP tools', secureCookies: config.publicUrl.protocol === 'https:',
        tools: mcp.tools.map(tool => ({ name: tool.name, title: tool.title ?? tool.name, readOnly: tool.annotations?.readOnlyHint === true })),
      }),
      issuer, jwks: { keys: [issued.jwk] }, scopes: [issued.scope], trustProxy: config.trustProxy,
    }),
  };
}

/** A public URL derived from the loopback address follows the port actually bound (port 0 in tests). */
function withBoundPort(config: RemoteConfig, port: number): RemoteConfig {
  if (config.publicUrlGiven || config.port === port) {
    return config;
  }
  const publicUrl = new URL(config.publicUrl.href);
  publicUrl.port = String(port);
  return { ...config, port, publicUrl };
}

/** fetch() says only "fetch failed"; the cause names what an operator can fix (DNS, refused, certificate). */
function describeNetworkError(error: Error): string {
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${error.message}: ${cause.code ?? ''} ${cause.message ?? ''}`.trim() : error.message;
}
