/**
 * The full MCP server (dist/server-main.js): the SDK, the broker client and every tool. The
 * bootstrap (dist/server.js) loads it after answering the first requests.
 */
import { PassThrough, Readable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { BrokerClient } from './brokerClient';
import { BridgeConfig } from './bridge/bridgeConfig';
import { createBridge } from './bridge/bridgeServer';
import { ServerConfig } from './config';
import { createServer } from './createServer';
import { JsonRpcRequestLike } from './startup/earlyResponder';

export interface Handoff {
  readonly config: ServerConfig;
  readonly version: string;
  /** Messages the bootstrap already answered; replayed so the SDK's session state matches. */
  readonly replay: readonly JsonRpcRequestLike[];
  /** Set when stdin ended before the hand-over: the bytes left unanswered, read from here instead. */
  readonly endedInput?: Buffer;
}

/** After stdin ends, requests already received are answered for at most this long, then the server exits. */
export const DRAIN_ON_EOF_MS = 5_000;

// stdout carries MCP messages; a stray console.log from a dependency must not corrupt it.
console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);

// vscode-jsonrpc 8 leaves the promise of a write to a dropped broker connection unhandled; the
// request itself fails and is retried, so this must not end the server (Node's default).
process.on('unhandledRejection', reason => {
  process.stderr.write(`[entra-mcp] ignored an unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`);
});

/** Connects the SDK to stdin/stdout, replays what the bootstrap answered, and resumes reading. */
export async function runServer({ config, version, replay, endedInput }: Handoff): Promise<void> {
  const tokens = new BrokerClient({ path: config.brokerPath, secret: config.brokerSecret, clientVersion: version });
  const server = createServer({ tokens, graph: { endpoint: config.graphEndpoint, tokens }, armEndpoint: config.armEndpoint }, version, config.tools);
  const replayed = replay.flatMap(message => {
    const parsed = JSONRPCMessageSchema.safeParse(message);
    return parsed.success ? [parsed.data] : [];
  });
  // Paused like the stdin the bootstrap hands over: nothing is read before the replay below.
  const input = endedInput ? new PassThrough().end(endedInput).pause() : process.stdin;
  const transport = new ReplayingStdioTransport(replayed, input);
  await serveUntilInputEnds(server, transport, input, () => tokens.dispose());
  for (const message of replayed) { transport.onmessage?.(message); }
  input.resume();
  void tokens.warmUp();
}

/** Bridge mode: forwards one remote server's tools over stdin/stdout (the bootstrap answers nothing early here). */
export async function runBridge(config: BridgeConfig, version: string): Promise<void> {
  const tokens = new BrokerClient({ path: config.brokerPath, secret: config.brokerSecret, clientVersion: version });
  const bridge = createBridge({ config, tokens, version });
  await serveUntilInputEnds(bridge.server, new ReplayingStdioTransport([], process.stdin), process.stdin, () => {
    tokens.dispose();
    return bridge.close();
  });
  void tokens.warmUp();
}

/**
 * Connects `server` and exits the process when the client is done. The client closed stdin: it
 * will send nothing more, but what it sent is answered (for at most DRAIN_ON_EOF_MS) before the
 * server exits, and the broker connection must not keep the process alive past that.
 */
async function serveUntilInputEnds(
  server: { connect(transport: Transport): Promise<void> }, transport: ReplayingStdioTransport, input: Readable, cleanUp: () => void | Promise<void>,
): Promise<void> {
  const exit = () => {
    void Promise.resolve(cleanUp()).finally(() => process.exit(0));
  };
  transport.onclose = exit;
  await server.connect(transport);
  transport.countRequests();
  input.once('end', () => {
    setTimeout(exit, DRAIN_ON_EOF_MS).unref();
    void transport.answered().then(exit);
  });
}

/**
 * Stdio transport that drops the SDK's second answer to a request the bootstrap already
 * answered, and knows when every request received has been answered and written.
 */
class ReplayingStdioTransport extends StdioServerTransport {
  private readonly answeredEarly: Set<string | number>;
  private readonly pending = new Set<string | number>();
  private writing = 0;
  private whenIdle: (() => void) | undefined;

  constructor(replayed: readonly JSONRPCMessage[], input: Readable) {
    super(input);
    this.answeredEarly = new Set(replayed.flatMap(message => 'id' in message && message.id !== undefined ? [message.id] : []));
  }

  /** Called once the SDK has set its handler: notes every request on its way in. */
  countRequests(): void {
    const deliver = this.onmessage;
    this.onmessage = message => {
      if ('method' in message && 'id' in message) { this.pending.add(message.id); }
      deliver?.(message);
    };
  }

  /** Resolves once no request waits for its answer and no answer is still being written. */
  answered(): Promise<void> {
    return new Promise(resolve => {
      this.whenIdle = resolve;
      this.checkIdle();
    });
  }

  override async send(message: JSONRPCMessage): Promise<void> {
    const isAnswer = 'result' in message || 'error' in message;
    if (isAnswer && this.answeredEarly.delete(message.id as string | number)) {
      this.settle(message.id as string | number);
      return;
    }
    this.writing++;
    try {
      await super.send(message);
    } finally {
      this.writing--;
      if (isAnswer) { this.settle(message.id as string | number); } else { this.checkIdle(); }
    }
  }

  private settle(id: string | number): void {
    this.pending.delete(id);
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.whenIdle && this.pending.size === 0 && this.writing === 0) { this.whenIdle(); }
  }
}
