/**
 * The MCP server as VS Code sees it, in process: an SDK client over an in-memory transport, the
 * real server and broker client, a real BrokerServer and the HTTPS fake Graph (also serving ARM).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BrokerHandlers, Limits } from '../../src/extension/broker/brokerServer';
import { BrokerClient, BrokerClientOptions } from '../../src/server/brokerClient';
import { createServer } from '../../src/server/createServer';
import { RetryPolicy } from '../../src/server/graph/graphClient';
import { ToolSelection } from '../../src/shared/toolCatalogue';
import { Harness, startBroker } from './brokerHarness';
import { FakeGraph } from './fakeGraph';
import { recordVisible } from './leakWatch';

export const FAST_RETRY: RetryPolicy = { delaySeconds: 0, maxRetries: 3, maxRetryAfterSeconds: 5 };
export const ALL_TOOLS: ToolSelection = { allowWrites: true, enabledTools: [] };

export interface McpOptions {
  readonly selection?: ToolSelection;
  readonly handlers?: Partial<BrokerHandlers>;
  readonly limits?: Partial<Limits>;
  readonly retry?: RetryPolicy;
  readonly graphTimeoutMs?: number;
  readonly brokerClient?: Partial<BrokerClientOptions>;
}

export class McpHarness {
  client!: Client;
  tokens!: BrokerClient;

  private constructor(readonly graph: FakeGraph, public broker: Harness, private readonly options: McpOptions) {}

  static async start(options: McpOptions = {}): Promise<McpHarness> {
    const graph = new FakeGraph();
    await graph.start();
    const mcp = new McpHarness(graph, await startBroker({ handlers: options.handlers, limits: options.limits }), options);
    await mcp.connect();
    return mcp;
  }

  /** Connects a fresh server and client; the broker address defaults to the harness broker's. */
  async connect(selection = this.options.selection ?? ALL_TOOLS, path = this.broker.path, secret = this.broker.secret): Promise<Client> {
    this.tokens = new BrokerClient({ path, secret, clientVersion: 'test', connectAttempts: 2, retryDelayMs: 20, ...this.options.brokerClient });
    const graph = { endpoint: this.graph.endpoint, tokens: this.tokens, retry: this.options.retry ?? FAST_RETRY, timeoutMs: this.options.graphTimeoutMs };
    const server = createServer({ tokens: this.tokens, graph, armEndpoint: this.graph.endpoint }, '1.2.3', selection);
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    this.client = new Client({ name: 'test-client', version: '1' });
    await Promise.all([server.connect(serverTransport), this.client.connect(clientTransport)]);
    return this.client;
  }

  /** Replaces the broker with one using these handlers, and reconnects the client to it. */
  async replaceBroker(handlers: Partial<BrokerHandlers>): Promise<void> {
    await this.disconnect();
    await this.broker.broker.stop();
    this.broker = await startBroker({ handlers, limits: this.options.limits });
    await this.connect();
  }

  /** Calls a tool; every result is recorded for the run's leak scan. */
  async call(name: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<CallToolResult> {
    const result = await this.client.callTool({ name, arguments: args }, undefined, { signal }) as CallToolResult;
    recordVisible(`${name} result`, JSON.stringify(result));
    return result;
  }

  async disconnect(): Promise<void> {
    await this.client.close();
    this.tokens.dispose();
  }

  async stop(): Promise<void> {
    await this.disconnect();
    await this.broker.broker.stop();
    await this.graph.stop();
  }
}

export function resultText(result: CallToolResult): string {
  return result.content.map(part => (part.type === 'text' ? part.text : '')).join('\n');
}
