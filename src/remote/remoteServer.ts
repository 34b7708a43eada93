/**
 * Puts the remote server together from its configuration: token validator, On-Behalf-Of token
 * source, the shared MCP server, the front door. The entry (main.ts) and the tests start it the
 * same way.
 */
import * as http from 'node:http';
import { AuditLog } from './audit';
import { credentialOptions } from './clientCredential';
import { RemoteConfig } from './config';
import { FrontDoor, listen } from './httpServer';
import { OboTokenSource } from './oboTokenSource';
import { UserRateLimiter } from './rateLimit';
import { ToolAccess } from './rbac';
import { createRemoteMcp } from './remoteMcp';
import { EntraTokenValidator } from './tokenValidator';

export interface RunningRemoteServer {
  readonly server: http.Server;
  readonly port: number;
  readonly tokens: OboTokenSource;
  readonly validator: EntraTokenValidator;
  /** Waits until signing keys are loaded (`/readyz` is 200). */
  readonly ready: Promise<void>;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/** Timings tests shorten; deployments keep the defaults. */
export interface RemoteTuning {
  readonly jwksCooldownMs?: number;
}

export async function startRemoteServer(givenConfig: RemoteConfig, audit: AuditLog, version: string, tuning: RemoteTuning = {}): Promise<RunningRemoteServer> {
  const { server, port } = await listen(givenConfig);
  const config = withBoundPort(givenConfig, port);
  const access = new ToolAccess(config.roles, config.requireRoles);
  const tokens = new OboTokenSource({
    authorityHost: config.authorityHost, tenantId: config.tenantId, clientId: config.clientId,
    credential: credentialOptions(config.credential, config.cloud.name), cloud: config.cloud,
    armEndpoint: config.armEndpoint, tools: config.tools,
  });
  const validator = new EntraTokenValidator({
    authorityHost: config.authorityHost, tenantId: config.tenantId, allowedTenants: config.allowedTenants,
    clientId: config.clientId, scope: config.scope, jwksCooldownMs: tuning.jwksCooldownMs,
  });
  const mcp = await createRemoteMcp({
    tokens, graphEndpoint: config.graphEndpoint, armEndpoint: config.armEndpoint, selection: config.tools, access, version,
  });
  const frontDoor = new FrontDoor({ config, validator, mcp, access, limiter: new UserRateLimiter(config.rateLimitPerMinute), audit });
  server.on('request', frontDoor.handle);
  audit.event('listening', { url: config.publicUrl.href, port, tls: config.tls !== undefined, tools: mcp.toolNames.length, credential: config.credential.kind });
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
  };
  return { server, port, tokens, validator, ready, close };
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
