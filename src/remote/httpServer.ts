/**
 * The remote front door: Streamable HTTP (stateless, JSON responses) at `/mcp`, protected
 * resource metadata (RFC 9728), health and readiness. This layer only checks (Host, Origin,
 * readiness, the bearer token, roles, the rate limit, the body) and hands the request to the
 * shared MCP server; it never looks inside a tool's work.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AuditLog } from './audit';
import { answerSingleMessage, jsonAnswer } from './jsonExchange';
import { isAuthPath } from './proxy/authRoutes';
import { toAuthInfo } from './callerContext';
import { RemoteConfig, isLoopbackHost } from './config';
import { UserRateLimiter } from './rateLimit';
import { ToolAccess } from './rbac';
import { RemoteMcp } from './remoteMcp';
import { RequestOutcome } from './statelessMux';
import { AuthFailure, Caller } from './tokenValidator';

/** What the front door needs of the token validator (tests may pass another). */
export interface TokenCheck {
  readonly ready: boolean;
  readonly authorizationServer: string;
  /** The scope clients ask for: in challenges and the protected resource metadata. */
  readonly scope: string;
  validate(token: string): Promise<Caller>;
}

export interface FrontDoorDeps {
  readonly config: RemoteConfig;
  readonly validator: TokenCheck;
  readonly mcp: RemoteMcp;
  readonly access: ToolAccess;
  readonly limiter: UserRateLimiter;
  readonly audit: AuditLog;
  /** Proxy mode: the authorization server's endpoints. */
  readonly authRoutes?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** A fleet: whether the shared state (Redis) is reachable now. */
  readonly sharedState?: () => boolean;
  /** Every message through the SDK's transport, none answered directly (tests compare the two). */
  readonly sdkTransportOnly?: boolean;
}

/** A validated caller, and the token that proved it (the On-Behalf-Of assertion). */
interface Authenticated {
  readonly caller: Caller;
  readonly token: string;
}

/** Largest JSON-RPC body accepted: tool arguments are small; a mail body is the largest. */
export const MAX_BODY_BYTES = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 120_000;
const PRM_PATH = '/.well-known/oauth-protected-resource';
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export class FrontDoor {
  private readonly scopeUri: string;
  private readonly allowedHosts: Set<string>;
  private readonly allowedOrigins: Set<string>;

  constructor(private readonly deps: FrontDoorDeps) {
    const { config } = deps;
    this.scopeUri = deps.validator.scope;
    this.allowedHosts = new Set([config.publicUrl.host.toLowerCase(), ...loopbackHosts(config)]);
    this.allowedOrigins = new Set([config.publicUrl.origin, ...config.corsOrigins]);
  }

  /** The URL of the protected resource metadata for the MCP endpoint. */
  get metadataUrl(): string {
    return `${this.deps.config.publicUrl.origin}${PRM_PATH}${this.deps.config.publicUrl.pathname}`;
  }

  /** HTTP requests being served right now: shutdown waits for them. */
  get inFlight(): number {
    return this.active;
  }
  private active = 0;

  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.active++;
    res.once('close', () => { this.active--; });
    const requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    this.route(req, res, requestId).catch(error => {
      this.deps.audit.event('internal_error', { requestId, message: error instanceof Error ? error.message : String(error) }, 'error');
      if (!res.headersSent) { jsonAnswer(res, 500, { error: 'server_error', error_description: 'The server failed; the request id is in X-Request-Id.' }); } else { res.destroy(); }
    });
  };

  private async route(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://path.invalid').pathname;
    if (req.method === 'GET' && path === '/healthz') {
      return jsonAnswer(res, 200, { status: 'ok' });
    }
    if (req.method === 'GET' && path === '/readyz') {
      return this.readiness(res);
    }
    if (req.method === 'GET' && (path === PRM_PATH || path === `${PRM_PATH}${this.deps.config.publicUrl.pathname}`)) {
      // A public document: browser-based clients read it across origins.
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.setHeader('Access-Control-Allow-Origin', '*');
      return jsonAnswer(res, 200, this.protectedResourceMetadata());
    }
    if (this.deps.authRoutes && isAuthPath(path)) {
      return this.serveAuth(req, res, requestId);
    }
    if (path !== this.deps.config.publicUrl.pathname) {
      return jsonAnswer(res, 404, { error: 'not_found' });
    }
    if (!this.checkHostAndOrigin(req, res, requestId)) {
      return;
    }
    if (req.method === 'OPTIONS') {
      return this.preflight(req, res);
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return jsonRpcError(res, 405, -32000, 'This server is stateless: only POST is served at this endpoint (no SSE stream, no session).');
    }
    await this.serveMcp(req, res, requestId);
  }

  /**
   * 200 once signing keys are loaded; "degraded" (still 200) while Redis is down: the replica
   * serves from memory, and a 503 would take every replica out of the pool at once.
   */
  private readiness(res: http.ServerResponse): void {
    if (!this.deps.validator.ready) {
      return jsonAnswer(res, 503, { status: 'starting' });
    }
    const shared = this.deps.sharedState?.();
    jsonAnswer(res, 200, shared === false ? { status: 'degraded', redis: 'unreachable' } : { status: 'ready' });
  }

  /** The authorization server's state lives in Redis in a fleet: without it, no weaker check, a 503 to retry. */
  private serveAuth(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): void {
    if (!this.checkHost(req, res, requestId)) {
      return;
    }
    if (this.deps.sharedState?.() === false) {
      res.setHeader('Retry-After', '5');
      return jsonAnswer(res, 503, { error: 'temporarily_unavailable', error_description: 'The sign-in service is briefly unavailable. Try again in a few seconds.' });
    }
    (this.deps.authRoutes as NonNullable<FrontDoorDeps['authRoutes']>)(req, res);
  }

  /** RFC 9728: where clients learn which authorization server to sign in with, and for which scope. */
  private protectedResourceMetadata(): Record<string, unknown> {
    return {
      resource: this.deps.config.publicUrl.href,
      authorization_servers: [this.deps.validator.authorizationServer],
      scopes_supported: [this.scopeUri],
      bearer_methods_supported: ['header'],
      resource_name: 'Entra MCP tools',
    };
  }

  /** DNS-rebinding protection: the Host must be ours, and a browser's Origin our own (or configured). */
  private checkHostAndOrigin(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): boolean {
    if (!this.checkHost(req, res, requestId)) {
      return false;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin)) {
      this.refuse(req, requestId, 403, 'origin', `Origin "${origin.slice(0, 100)}" is not allowed`);
      jsonRpcError(res, 403, -32000, 'Requests from this web origin are not allowed (ENTRA_MCP_CORS_ORIGINS lists the allowed ones).');
      return false;
    }
    this.allowCors(req, res);
    return true;
  }

  private checkHost(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): boolean {
    const forwarded = this.deps.config.trustProxy ? firstValue(req.headers['x-forwarded-host']) : undefined;
    const host = (forwarded ?? req.headers.host ?? '').toLowerCase();
    if (!this.allowedHosts.has(host)) {
      this.refuse(req, requestId, 421, 'host', `Host "${host.slice(0, 100)}" is not this server's`);
      jsonRpcError(res, 421, -32000, `This server answers only for ${this.deps.config.publicUrl.host}; set ENTRA_MCP_PUBLIC_URL to the URL clients use.`);
      return false;
    }
    return true;
  }

  private allowCors(req: http.IncomingMessage, res: http.ServerResponse): void {
    const origin = req.headers.origin;
    if (origin && this.deps.config.corsOrigins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, Mcp-Protocol-Version, X-Request-Id, Retry-After');
    }
  }

  private preflight(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.headers.origin && this.deps.config.corsOrigins.includes(req.headers.origin)) {
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept, Mcp-Protocol-Version');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.writeHead(204).end();
  }

  private async serveMcp(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const started = performance.now();
    const outcomes: RequestOutcome[] = [];
    let caller: Caller | undefined;
    let body: unknown;
    // One line for every request to the endpoint, refused or served; refusals add their own line.
    res.once('finish', () => this.deps.audit.request({
      requestId, status: res.statusCode, latencyMs: performance.now() - started,
      method: outcomes.map(outcome => outcome.method).join(',') || methodsOf(body), tool: outcomes.find(outcome => outcome.tool)?.tool,
      outcome: outcomes.map(outcome => outcome.outcome).join(',') || undefined,
      oid: caller?.oid, upn: caller?.upn, tid: caller?.tid, clientApp: caller?.clientApp, ip: this.clientIp(req),
    }));
    if (!this.deps.validator.ready) {
      res.setHeader('Retry-After', '5');
      return jsonRpcError(res, 503, -32000, 'The server is starting (Entra ID signing keys not loaded yet). Try again shortly.');
    }
    const authenticated = await this.authenticate(req, res, requestId);
    caller = authenticated?.caller;
    if (!authenticated || !(await this.admit(req, res, requestId, authenticated.caller))) {
      return;
    }
    body = await readJsonBody(req, res);
    if (body === undefined) {
      return;
    }
    await this.handOver(req, res, body, authenticated, outcomes);
  }

  /** Roles and the rate limit: whether this caller may make a request now (else answered 403/429). */
  private async admit(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, caller: Caller): Promise<boolean> {
    if (!this.deps.access.hasAnyRole(caller.roles)) {
      this.refuse(req, requestId, 403, 'roles', 'no app role', caller);
      jsonRpcError(res, 403, -32003, `Your account has no app role on this server. Ask an administrator to assign you ` +
        `${this.deps.access.knownRoles().join(' or ')} (Enterprise applications → this app → Users and groups), then sign in again.`);
      return false;
    }
    const decision = await this.deps.limiter.consume(`${caller.tid}:${caller.oid}`);
    if (!decision.allowed) {
      this.refuse(req, requestId, 429, 'rate_limit', `over ${this.deps.config.rateLimitPerMinute} requests per minute`, caller);
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      jsonRpcError(res, 429, -32000, `Too many requests: the limit is ${this.deps.config.rateLimitPerMinute} per minute per user. ` +
        `Retry after ${decision.retryAfterSeconds} s.`);
      return false;
    }
    return true;
  }

  /** A single message answered directly; otherwise a fresh SDK transport for this request, attached to the one shared server for as long as it lasts. */
  private async handOver(req: http.IncomingMessage, res: http.ServerResponse, body: unknown, { caller, token }: Authenticated, outcomes: RequestOutcome[]): Promise<void> {
    const authInfo = toAuthInfo(caller, token, this.deps.config.clientId, this.deps.config.publicUrl);
    if (!this.deps.sdkTransportOnly && answerSingleMessage(req, res, body, this.deps.mcp.mux, outcomes, authInfo)) {
      return;
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const link = this.deps.mcp.mux.attach(transport, outcomes);
    res.once('close', () => {
      link.detach();
      void transport.close();
    });
    (req as http.IncomingMessage & { auth?: unknown }).auth = authInfo;
    await transport.handleRequest(req, res, body);
  }

  /** The caller and their bearer token, or undefined after answering 401/403 with a challenge that says what to do. */
  private async authenticate(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<Authenticated | undefined> {
    const header = req.headers.authorization;
    const token = header ? BEARER.exec(header)?.[1] : undefined;
    if (!token) {
      const reason = header ? 'The Authorization header is not a Bearer token.' : 'Sign in: this server needs an Entra ID access token.';
      this.refuse(req, requestId, 401, header ? 'authorization' : 'token', header ? 'malformed Authorization header' : 'no token');
      return this.challenge(res, 401, reason, header ? 'invalid_request' : undefined);
    }
    try {
      return { caller: await this.deps.validator.validate(token), token };
    } catch (error) {
      if (!(error instanceof AuthFailure)) {
        throw error;
      }
      this.refuse(req, requestId, error.status, error.claim, error.message);
      return this.challenge(res, error.status, error.message, error.error);
    }
  }

  private challenge(res: http.ServerResponse, status: number, description: string, error?: string): undefined {
    const parts = [`resource_metadata="${this.metadataUrl}"`, `scope="${this.scopeUri}"`];
    if (error) {
      parts.push(`error="${error}"`, `error_description="${description.replace(/["\\]/g, "'")}"`);
    }
    res.setHeader('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
    jsonAnswer(res, status, { error: error ?? 'unauthorized', error_description: description });
    return undefined;
  }

  private refuse(req: http.IncomingMessage, requestId: string, status: number, claim: string, reason: string, caller?: Caller): void {
    this.deps.audit.refusal({ requestId, status, claim, reason, oid: caller?.oid, tid: caller?.tid, ip: this.clientIp(req) });
  }

  /** Behind a proxy, the address the nearest proxy saw (the last X-Forwarded-For entry: earlier ones are the client's say). */
  private clientIp(req: http.IncomingMessage): string | undefined {
    const forwarded = this.deps.config.trustProxy ? lastValue(req.headers['x-forwarded-for']) : undefined;
    return forwarded ?? req.socket.remoteAddress;
  }
}

/**
 * Binds the address; resolves with the port actually used (0 picks one). Requests are served
 * once a handler is attached (`server.on('request', …)`).
 */
export async function listen(config: RemoteConfig): Promise<{ server: http.Server; port: number }> {
  const server = config.tls
    ? https.createServer({ cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' })
    : http.createServer();
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // Idle kept-alive connections outlive a load balancer's (nginx 60 s, Azure 4 min is the
  // balancer's own choice): the balancer closes them first, so it never sends a request on a
  // connection this server is closing (a 502 it will not retry for a POST).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** The forms of Host a client on the same machine may use to reach a loopback-bound server. */
function loopbackHosts(config: RemoteConfig): string[] {
  if (!isLoopbackHost(config.host)) {
    return [];
  }
  const port = config.publicUrl.port || String(config.port);
  return ['127.0.0.1', 'localhost', '[::1]'].map(host => `${host}:${port}`);
}

/** Reads the body up to MAX_BODY_BYTES and parses it, or answers 413/415/400 and returns undefined. */
async function readJsonBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    jsonRpcError(res, 415, -32000, 'Send JSON-RPC as Content-Type: application/json.');
    return undefined;
  }
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    jsonRpcError(res, 413, -32000, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      jsonRpcError(res, 413, -32000, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    jsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON.');
    return undefined;
  }
}

function methodsOf(body: unknown): string | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const methods = messages.map(message => (message as { method?: unknown })?.method).filter((method): method is string => typeof method === 'string');
  return methods.length ? methods.map(method => method.slice(0, 64)).join(',') : undefined;
}

/** A caller-supplied request id is echoed only when it is a plain, short token; otherwise we make one. */
function requestIdOf(req: http.IncomingMessage): string {
  const given = firstValue(req.headers['x-request-id']);
  return given && /^[A-Za-z0-9._-]{8,64}$/.test(given) ? given : randomUUID();
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0].trim() || undefined;
}

function lastValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.at(-1) : header;
  return value?.split(',').at(-1)?.trim().slice(0, 64) || undefined;
}



function jsonRpcError(res: http.ServerResponse, status: number, code: number, message: string): void {
  jsonAnswer(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}
