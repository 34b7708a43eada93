/**
 * The token broker: a local JSON-RPC endpoint that only the MCP server this extension started
 * can use. Every connection must open with `broker/hello` carrying the per-launch secret;
 * anything else is closed unanswered and audited. Plain node: unit-tested without VS Code.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import {
  CancellationToken, DataCallback, Disposable, Message, MessageConnection, MessageReader,
  ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection,
} from 'vscode-jsonrpc/node';
import * as z from 'zod/mini';
import {
  BROKER_LIMITS, BrokerErrorCode, BrokerErrorReason, GetRemoteTokenParams, GetRemoteTokenParamsSchema, GetRemoteTokenRequest,
  GetTokenParams, GetTokenParamsSchema, GetTokenRequest, GetTokenResult, HelloParamsSchema, HelloRequest, PROTOCOL_VERSION,
  RemoteOutcomeParams, RemoteOutcomeParamsSchema, RemoteOutcomeRequest, StatusParams, StatusParamsSchema, StatusRequest, StatusResult,
} from '../../shared/protocol';
import { Audit } from '../audit';
import { isBrokerError } from '../auth/brokerError';
import { BrokerEndpoint, createBrokerEndpoint } from './socketPath';
import { FrameSizeGuard } from './frameSizeGuard';

export interface BrokerHandlers {
  getToken(params: GetTokenParams): Promise<GetTokenResult>;
  status(params: StatusParams): StatusResult;
  /** Scopes of the request the allow-list refuses for that tool (empty: allowed). */
  disallowedScopes(tool: string, scopes: readonly string[]): string[];
  /** A token for one of the user's remote servers, for the scope the extension discovered (never one the caller names). */
  getRemoteToken(params: GetRemoteTokenParams): Promise<GetTokenResult>;
  /** How the bridge's last exchange with a remote server went (Show Status). */
  remoteOutcome(params: RemoteOutcomeParams): void;
}

export type Limits = { -readonly [K in keyof typeof BROKER_LIMITS]: number };

export interface BrokerServerOptions {
  readonly handlers: BrokerHandlers;
  readonly audit: Audit;
  readonly extensionVersion: string;
  readonly limits?: Partial<Limits>;
  /** Called when the last connection closes (the last server exited). */
  readonly onIdle?: () => void;
  readonly createEndpoint?: () => BrokerEndpoint;
}

export interface BrokerAddress {
  readonly path: string;
  readonly secret: string;
}


export class BrokerServer {
  private server: net.Server | undefined;
  private endpoint: BrokerEndpoint | undefined;
  private secret = '';
  private readonly sockets = new Set<net.Socket>();
  /** Connections waiting for their handshake, oldest first. */
  private readonly unauthenticated = new Map<net.Socket, BrokerConnection>();
  private readonly authenticated = new Set<net.Socket>();
  private readonly limits: Limits;

  constructor(private readonly options: BrokerServerOptions) {
    this.limits = { ...BROKER_LIMITS, ...options.limits };
  }

  get isRunning(): boolean {
    return this.server !== undefined;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Starts listening (once); later calls return the same address and secret. */
  async start(): Promise<BrokerAddress> {
    if (this.server && this.endpoint) {
      return { path: this.endpoint.path, secret: this.secret };
    }
    const endpoint = (this.options.createEndpoint ?? createBrokerEndpoint)();
    const secret = randomBytes(32).toString('hex');
    const server = net.createServer(socket => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A socket's mode comes from the umask: 0177 during listen makes it 0600.
      const previousUmask = process.platform === 'win32' ? undefined : process.umask(0o177);
      server.listen(endpoint.path, () => {
        server.off('error', reject);
        resolve();
      });
      if (previousUmask !== undefined) { process.umask(previousUmask); }
    }).catch(error => {
      endpoint.dispose();
      throw error;
    });
    this.server = server;
    this.endpoint = endpoint;
    this.secret = secret;
    this.options.audit({ event: 'broker-start', outcome: 'ok' });
    return { path: endpoint.path, secret };
  }

  /** Closes every connection and removes the socket. A new start() gets a new secret. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    this.unauthenticated.clear();
    this.authenticated.clear();
    if (server) {
      await new Promise<void>(resolve => server.close(() => resolve()));
      this.options.audit({ event: 'broker-stop', outcome: 'ok' });
    }
    this.endpoint?.dispose();
    this.endpoint = undefined;
    this.secret = '';
  }

  /**
   * Every connection is accepted. Those without a handshake yet have their own cap, and the
   * oldest of them makes room for a new one: a peer without the secret can hold a slot for at
   * most the handshake deadline and never keeps the real server out. Only a connection that
   * presented the secret counts against `maxConnections`.
   */
  private accept(socket: net.Socket): void {
    if (this.unauthenticated.size >= this.limits.maxUnauthenticatedConnections) {
      const [[oldestSocket, oldest]] = this.unauthenticated.entries();
      this.unauthenticated.delete(oldestSocket);
      oldest.refuse('evicted: too many connections waiting for their handshake');
    }
    this.sockets.add(socket);
    const connection = new BrokerConnection(socket, this.secret, this.limits, this.options, () => this.admit(socket));
    this.unauthenticated.set(socket, connection);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.unauthenticated.delete(socket);
      this.authenticated.delete(socket);
      if (this.sockets.size === 0 && this.server) {
        this.options.onIdle?.();
      }
    });
  }

  /** A connection presented the secret: it leaves the waiting room if there is a slot for it. */
  private admit(socket: net.Socket): boolean {
    if (this.authenticated.size >= this.limits.maxConnections) {
      return false;
    }
    this.unauthenticated.delete(socket);
    this.authenticated.add(socket);
    return true;
  }
}

/** One accepted connection: handshake first, then token and status requests. */
class BrokerConnection {
  private authenticated = false;
  private closed = false;
  private pending = 0;
  private readonly connection: MessageConnection;
  private readonly reader: StreamMessageReader;
  private readonly gate: HandshakeGate;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: net.Socket,
    private readonly secret: string,
    private readonly limits: Limits,
    private readonly options: BrokerServerOptions,
    private readonly admit: () => boolean,
  ) {
    const guard = new FrameSizeGuard(limits.maxFrameBytes);
    guard.on('error', error => this.close('refused', `bad frame: ${error.message}`));
    socket.on('error', () => this.close('failed', 'socket error'));
    // A peer leaving before its handshake is audited like any other refused connection.
    socket.on('close', () => this.close(this.authenticated ? 'ok' : 'refused', this.authenticated ? 'closed by peer' : 'closed before the handshake'));
    socket.pipe(guard);
    const reader = this.reader = new StreamMessageReader(guard);
    reader.partialMessageTimeout = limits.handshakeTimeoutMs;
    reader.onPartialMessage(info => {
      if (info.waitingTime >= limits.handshakeTimeoutMs) { this.close('refused', 'incomplete frame timed out'); }
    });
    reader.onError(() => this.close('refused', 'malformed frame'));
    this.gate = new HandshakeGate(reader, message => this.isHello(message), limits.maxPendingRequests, reason => this.close('refused', reason));
    this.connection = createMessageConnection(this.gate, new StreamMessageWriter(socket), nullLogger);
    this.connection.onError(() => this.close('refused', 'protocol error'));
    // A deadline from accept, not from the last byte: a handshake dripped in a byte at a time keeps
    // re-arming the reader's partial-message timer, but not this one.
    this.handshakeTimer = setTimeout(() => this.close('refused', 'no handshake in time'), limits.handshakeTimeoutMs);
    this.register();
    this.connection.listen();
  }

  private isHello(message: Message): boolean {
    // Params must be an object: otherwise vscode-jsonrpc itself would answer (a parameter-count
    // error) before our handler could refuse the connection unanswered.
    const isHello = Message.isRequest(message) && message.method === HelloRequest.method &&
      typeof message.params === 'object' && message.params !== null && !Array.isArray(message.params);
    if (!isHello) {
      this.close('refused', 'first message was not a handshake');
    }
    return isHello;
  }

  private register(): void {
    this.connection.onRequest(HelloRequest, params => this.hello(params));
    this.connection.onRequest(GetTokenRequest, (params, token) => this.guarded('token', params, GetTokenParamsSchema, token, async valid => {
      const refused = this.options.handlers.disallowedScopes(valid.tool, valid.scopes);
      if (refused.length > 0) {
        this.options.audit({ event: 'token', outcome: 'refused', tool: valid.tool, scopes: valid.scopes, detail: `not in allow-list: ${refused.join(' ')}` });
        throw brokerResponseError('ScopeNotAllowed',
          `The permission ${refused.join(', ')} is not allowed for the tool "${valid.tool}". ` +
          'If you need it, add it to the setting entraMcp.additionalScopes.');
      }
      return this.options.handlers.getToken(valid);
    }));
    this.connection.onRequest(GetRemoteTokenRequest, (params, token) => this.guarded('remote-token', params, GetRemoteTokenParamsSchema, token, valid => this.options.handlers.getRemoteToken(valid)));
    this.connection.onRequest(RemoteOutcomeRequest, (params, token) => this.guarded('remote-outcome', params, RemoteOutcomeParamsSchema, token, async valid => this.options.handlers.remoteOutcome(valid)));
    this.connection.onRequest(StatusRequest, (params, token) => this.guarded('status', params, StatusParamsSchema, token, async valid => this.options.handlers.status(valid)));
    this.connection.onRequest((method: string) => {
      throw brokerResponseError('InvalidParams', `Unknown broker method "${method.slice(0, 64)}".`);
    });
  }

  private hello(params: unknown): { protocolVersion: number; extensionVersion: string } {
    const parsed = HelloParamsSchema.safeParse(params);
    if (this.authenticated || !parsed.success || !secretsMatch(parsed.data.secret, this.secret)) {
      this.close('refused', this.authenticated ? 'second handshake' : parsed.success ? 'wrong secret' : 'malformed handshake');
      throw new ResponseError(BrokerErrorCode.InvalidParams, 'Handshake refused.');
    }
    if (parsed.data.protocolVersion !== PROTOCOL_VERSION) {
      this.close('refused', `protocol version ${parsed.data.protocolVersion}, expected ${PROTOCOL_VERSION}`);
      throw new ResponseError(BrokerErrorCode.InvalidParams, 'Unsupported protocol version.');
    }
    if (!this.admit()) {
      this.close('refused', 'too many connections');
      throw new ResponseError(BrokerErrorCode.InvalidParams, 'Too many connections.');
    }
    clearTimeout(this.handshakeTimer);
    this.authenticated = true;
    this.gate.open();
    this.options.audit({ event: 'handshake', outcome: 'ok', detail: `${parsed.data.client.name} ${parsed.data.client.version} pid ${parsed.data.client.pid}` });
    return { protocolVersion: PROTOCOL_VERSION, extensionVersion: this.options.extensionVersion };
  }

  /**
   * Validation, concurrency and time bounds shared by every method. (Authentication is the
   * gate's: no request reaches a handler before the handshake succeeded.)
   */
  private async guarded<P, R>(event: string, params: unknown, schema: z.ZodMiniType<P>, token: CancellationToken, handler: (valid: P) => Promise<R>): Promise<R> {
    const parsed = schema.safeParse(params);
    // Positional params with extra elements arrive in the cancellation token's place.
    if (!parsed.success || !CancellationToken.is(token)) {
      this.options.audit({ event, outcome: 'refused', detail: 'invalid parameters' });
      throw brokerResponseError('InvalidParams', `Invalid ${event} request: ${parsed.success ? 'unexpected extra parameters' : parsed.error.issues[0]?.message ?? 'malformed'}.`);
    }
    if (this.pending >= this.limits.maxPendingRequests) {
      throw brokerResponseError('TokenUnavailable', 'Too many requests in flight on this connection; try again.');
    }
    this.pending++;
    try {
      return await withTimeout(handler(parsed.data), this.limits.requestTimeoutMs, token);
    } catch (error) {
      throw toResponseError(error);
    } finally {
      this.pending--;
    }
  }

  /** Closes the connection unanswered (the server evicts a waiting connection to make room). */
  refuse(detail: string): void {
    this.close('refused', detail);
  }

  private close(outcome: 'ok' | 'refused' | 'failed', detail: string): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    // Destroy before disposing: nothing may be written to a connection we refuse.
    this.socket.destroy();
    this.connection.dispose();
    // The reader re-arms its partial-message timer until the frame completes, which it never will now.
    this.reader.partialMessageTimeout = 0;
    this.reader.dispose();
    if (outcome !== 'ok' || this.authenticated) {
      this.options.audit({ event: 'connection', outcome, detail });
    }
  }
}

/**
 * Lets the connection see the first message only if it is a handshake, and holds later ones
 * until the handshake succeeded. Otherwise vscode-jsonrpc would answer some of them itself
 * (parameter errors) before the handshake is checked, and it drops a queued request when
 * another arrives with the same id, so a request could overtake the handshake.
 */
class HandshakeGate implements MessageReader {
  private first = true;
  private held: Message[] | undefined = [];
  private deliver: DataCallback | undefined;

  constructor(
    private readonly inner: MessageReader,
    private readonly acceptFirst: (message: Message) => boolean,
    private readonly maxHeld: number,
    private readonly refuse: (reason: string) => void,
  ) {}

  /**
   * The handshake succeeded: deliver what was held, after the handshake's answer (delivering
   * from inside its handler would let a malformed message fail the handshake), then everything
   * from now on.
   */
  open(): void {
    const held = this.held ?? [];
    setImmediate(() => {
      this.held = undefined;
      for (const message of held) { this.pass(message); }
    });
  }

  private pass(message: Message): void {
    try {
      this.deliver?.(message);
    } catch {
      // vscode-jsonrpc throws on some malformed messages, e.g. a cancellation without an id.
      this.refuse('malformed message');
    }
  }

  get onError() { return this.inner.onError; }
  get onClose() { return this.inner.onClose; }
  get onPartialMessage() { return this.inner.onPartialMessage; }

  listen(callback: DataCallback): Disposable {
    this.deliver = callback;
    return this.inner.listen(message => {
      if (this.first) {
        this.first = false;
        if (this.acceptFirst(message)) { callback(message); }
      } else if (!this.held) {
        this.pass(message);
      } else if (this.held.length < this.maxHeld) {
        this.held.push(message);
      } else {
        this.refuse('too many messages before the handshake completed');
      }
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** Compares secrets in constant time; hashing first makes the lengths equal. */
export function secretsMatch(presented: string, expected: string): boolean {
  if (!expected) {
    return false;
  }
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function brokerResponseError(reason: BrokerErrorReason, message: string): ResponseError<{ reason: BrokerErrorReason }> {
  return new ResponseError(BrokerErrorCode[reason], message, { reason });
}

function toResponseError(error: unknown): ResponseError<unknown> {
  if (error instanceof ResponseError) {
    return error;
  }
  if (isBrokerError(error)) {
    return brokerResponseError(error.reason, error.message);
  }
  return brokerResponseError('TokenUnavailable', 'The broker failed to get a token. Run "Entra MCP: Show Log" for details.');
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, token: CancellationToken): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let cancelled: Disposable | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(brokerResponseError('Timeout', `No token within ${Math.round(timeoutMs / 1000)} s (was a sign-in left open?). Try again.`)), timeoutMs);
    // A deadline is no reason to keep a process alive (a test run that is done would wait minutes).
    timer.unref();
    cancelled = token.onCancellationRequested(() => reject(brokerResponseError('Timeout', 'The request was cancelled.')));
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
    cancelled?.dispose();
  }
}

const nullLogger = { error: () => {}, warn: () => {}, info: () => {}, log: () => {} };
