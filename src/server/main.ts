/**
 * The full MCP server (dist/server-main.js): the SDK, the broker client and every tool. The
 * bootstrap (dist/server.js) loads it after answering the first requests.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { BrokerClient } from './brokerClient';
import { ServerConfig } from './config';
import { createServer } from './createServer';
import { JsonRpcRequestLike } from './startup/earlyResponder';

export interface Handoff {
  readonly config: ServerConfig;
  readonly version: string;
  /** Messages the bootstrap already answered; replayed so the SDK's session state matches. */
  readonly replay: readonly JsonRpcRequestLike[];
}

// stdout carries MCP messages; a stray console.log from a dependency must not corrupt it.
console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);

// vscode-jsonrpc 8 leaves the promise of a write to a dropped broker connection unhandled; the
// request itself fails and is retried, so this must not end the server (Node's default).
process.on('unhandledRejection', reason => {
  process.stderr.write(`[entra-mcp] ignored an unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`);
});

/** Connects the SDK to stdin/stdout, replays what the bootstrap answered, and resumes reading. */
export async function runServer({ config, version, replay }: Handoff): Promise<void> {
  const tokens = new BrokerClient({ path: config.brokerPath, secret: config.brokerSecret, clientVersion: version });
  const server = createServer({ tokens, graph: { endpoint: config.graphEndpoint, tokens }, armEndpoint: config.armEndpoint }, version, config.tools);
  const replayed = replay.flatMap(message => {
    const parsed = JSONRPCMessageSchema.safeParse(message);
    return parsed.success ? [parsed.data] : [];
  });
  const transport = new ReplayingStdioTransport(replayed);
  transport.onclose = () => {
    tokens.dispose();
    process.exit(0);
  };
  await server.connect(transport);
  for (const message of replayed) { transport.onmessage?.(message); }
  process.stdin.resume();
  void tokens.warmUp();
}

/** Stdio transport that drops the SDK's second answer to a request the bootstrap already answered. */
class ReplayingStdioTransport extends StdioServerTransport {
  private readonly answered: Set<string | number>;

  constructor(replayed: readonly JSONRPCMessage[]) {
    super();
    this.answered = new Set(replayed.flatMap(message => 'id' in message && message.id !== undefined ? [message.id] : []));
  }

  override send(message: JSONRPCMessage): Promise<void> {
    if (('result' in message || 'error' in message) && this.answered.delete(message.id as string | number)) {
      return Promise.resolve();
    }
    return super.send(message);
  }
}
