/**
 * The server's side of the broker protocol: one connection to the extension host, opened with
 * the per-launch secret, re-opened when it drops. If the broker stays gone (VS Code reloaded,
 * the extension was disabled) requests fail fast with a message saying so.
 */
import * as net from 'node:net';
import {
  MessageConnection, RequestType, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection,
} from 'vscode-jsonrpc/node';
import {
  BROKER_LIMITS, BrokerErrorReason, GetRemoteTokenRequest, GetTokenRequest, GetTokenResult, HelloRequest, PROTOCOL_VERSION, RemoteOutcomeRequest, StatusRequest, StatusResult,
} from '../shared/protocol';
import { SharedOpening } from '../shared/sharedOpening';
import { ToolError, ToolErrorCode } from './toolError';

/** How a token is wanted: for a claims challenge, or fresh past the broker's cache. */
export interface TokenRequestOptions {
  readonly wwwAuthenticate?: string;
  readonly forceRefresh?: boolean;
}

/** What tools need from the broker; tests pass a fake. */
export interface TokenSource {
  getToken(tool: string, scopes: readonly string[], options?: TokenRequestOptions): Promise<GetTokenResult>;
  status(tool: string): Promise<StatusResult>;
}

/** What the bridge needs from the broker: tokens for its one remote server, and a place to say how calls went. */
export interface RemoteTokenSource {
  getRemoteToken(server: string, options?: TokenRequestOptions): Promise<GetTokenResult>;
  reportOutcome(server: string, ok: boolean, message?: string): Promise<void>;
}

export interface BrokerClientOptions {
  readonly path: string;
  readonly secret: string;
  readonly clientVersion: string;
  /** Attempts to (re)connect before a request gives up. */
  readonly connectAttempts?: number;
  /** Delay before the first retry; doubles each time. */
  readonly retryDelayMs?: number;
  readonly connectTimeoutMs?: number;
  /** A broker that accepts but never answers the handshake (a frozen extension host) is given up on after this. */
  readonly helloTimeoutMs?: number;
  /** Backstop for one request; the broker bounds its own work to BROKER_LIMITS.requestTimeoutMs. */
  readonly requestTimeoutMs?: number;
}

export const BROKER_UNAVAILABLE_MESSAGE =
  'The Entra MCP Broker extension is not reachable: VS Code may have reloaded, or the extension was disabled. ' +
  'Restart the "Entra MCP" server (Command Palette: "MCP: List Servers"), or reload the VS Code window.';

const KNOWN_REASONS: readonly BrokerErrorReason[] = ['NotSignedIn', 'ScopeNotAllowed', 'TokenUnavailable', 'Timeout', 'InvalidParams'];

export class BrokerClient implements TokenSource, RemoteTokenSource {
  private readonly connection = new SharedOpening(() => this.open());
  private readonly sockets = new WeakMap<MessageConnection, net.Socket>();
  /** The broker refuses more than maxPendingRequests per connection: wait for a slot instead. */
  private readonly slots = new Slots(BROKER_LIMITS.maxPendingRequests);

  constructor(private readonly options: BrokerClientOptions) {}

  getToken(tool: string, scopes: readonly string[], options: TokenRequestOptions = {}): Promise<GetTokenResult> {
    return this.request(GetTokenRequest, {
      tool, scopes: [...scopes],
      ...(options.wwwAuthenticate ? { wwwAuthenticate: options.wwwAuthenticate } : {}),
      ...(options.forceRefresh ? { forceRefresh: true } : {}),
    });
  }

  getRemoteToken(server: string, options: TokenRequestOptions = {}): Promise<GetTokenResult> {
    return this.request(GetRemoteTokenRequest, {
      server,
      ...(options.wwwAuthenticate ? { wwwAuthenticate: options.wwwAuthenticate } : {}),
      ...(options.forceRefresh ? { forceRefresh: true } : {}),
    });
  }

  /** Best effort: Show Status is the only reader, so a broker that is gone is no error here. */
  async reportOutcome(server: string, ok: boolean, message?: string): Promise<void> {
    try {
      await this.request(RemoteOutcomeRequest, { server, ok, ...(message ? { message: message.slice(0, 1000) } : {}) });
    } catch {
      // the tool result already carries the message
    }
  }

  status(tool: string): Promise<StatusResult> {
    return this.request(StatusRequest, { tool });
  }

  /** Connects ahead of the first request, so the broker knows this server is alive. */
  async warmUp(): Promise<boolean> {
    try {
      await this.connection.get();
      return true;
    } catch {
      return false;
    }
  }

  dispose(): void {
    void this.connection.take()?.then(connection => this.drop(connection), () => undefined);
  }

  private async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    await this.slots.acquire();
    try {
      return await this.attempt(type, params);
    } finally {
      this.slots.release();
    }
  }

  private async attempt<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
    const attempts = this.options.connectAttempts ?? 4;
    let delay = this.options.retryDelayMs ?? 150;
    for (let attempt = 1; ; attempt++) {
      let connection: MessageConnection;
      try {
        connection = await this.connection.get();
      } catch {
        if (attempt >= attempts) {
          throw new ToolError('BrokerUnavailable', BROKER_UNAVAILABLE_MESSAGE);
        }
        await sleep(delay);
        delay *= 2;
        continue;
      }
      try {
        return await withDeadline(connection.sendRequest(type, params), this.options.requestTimeoutMs ?? BROKER_LIMITS.requestTimeoutMs + 5_000);
      } catch (error) {
        if (isBrokerAnswer(error)) {
          throw toToolError(error);
        }
        this.drop(connection);
        // A dropped connection is retried (token requests are safe to repeat); a broker that
        // stopped answering is not waited for again.
        if (error instanceof DeadlineError || attempt >= attempts) {
          throw new ToolError('BrokerUnavailable', BROKER_UNAVAILABLE_MESSAGE);
        }
      }
    }
  }

  /** The connection is gone or useless: close it (failing what waits on it) and open a new one next time. */
  private drop(connection: MessageConnection): void {
    this.sockets.get(connection)?.destroy();
    connection.dispose();
    this.connection.forgetValue(connection);
  }

  private async open(): Promise<MessageConnection> {
    const socket = await connectSocket(this.options.path, this.options.connectTimeoutMs ?? 2_000);
    const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket), silentLogger);
    this.sockets.set(connection, socket);
    // Disposing rejects the requests still waiting on this connection, so they are retried.
    const forget = () => this.drop(connection);
    connection.onClose(forget);
    connection.onError(forget);
    socket.on('close', forget);
    connection.listen();
    try {
      await withDeadline(connection.sendRequest(HelloRequest, {
        secret: this.options.secret,
        protocolVersion: PROTOCOL_VERSION,
        client: { name: 'entra-mcp-server', version: this.options.clientVersion, pid: process.pid },
      }), this.options.helloTimeoutMs ?? 5_000);
    } catch (error) {
      this.drop(connection);
      throw error;
    }
    return connection;
  }
}

function connectSocket(path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('broker connect timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', error => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * An error the broker sent (it always names a reason), as opposed to one vscode-jsonrpc raises
 * locally when the connection fails under a request (write error, connection disposed).
 */
function isBrokerAnswer(error: unknown): error is ResponseError<unknown> {
  return error instanceof ResponseError && typeof (error.data as { reason?: unknown } | undefined)?.reason === 'string';
}

function toToolError(error: ResponseError<unknown>): ToolError {
  const reason = (error.data as { reason?: string } | undefined)?.reason;
  const code: ToolErrorCode = KNOWN_REASONS.includes(reason as BrokerErrorReason) ? reason as ToolErrorCode : 'TokenUnavailable';
  return new ToolError(code, error.message);
}

class DeadlineError extends Error {}

/** Rejects with a DeadlineError when the broker has not answered in time. */
async function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineError('broker did not answer in time')), timeoutMs); });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A counting semaphore: at most `size` holders, the rest wait in order. */
class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>(resolve => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) { next(); } else { this.held--; }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

const silentLogger = { error: () => {}, warn: () => {}, info: () => {}, log: () => {} };
