/**
 * Captures the startup manifest from the real server: the SDK's own answers to `initialize`
 * and `tools/list` with every tool registered. Run at build time (esbuild.mjs) and by the test
 * that holds the early answers to the SDK's.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { JSONRPCMessage, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { ToolSelection } from '../../shared/toolCatalogue';
import { TokenSource } from '../brokerClient';
import { createServer } from '../createServer';
import { ToolError } from '../toolError';
import { ManifestTool, StartupManifest } from './manifest';

/** Describing registers tools but never calls one: any token request is a bug. */
const noToken = () => Promise.reject(new ToolError('BrokerUnavailable', 'describing the server needs no token'));
const NO_TOKENS: TokenSource = { getToken: noToken, status: noToken };

export async function describeServer(version: string): Promise<StartupManifest> {
  const answers = await askServer(version, [
    { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'describe', version } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  ]);
  const { protocolVersion: _negotiated, ...initializeResult } = answers[0].result;
  return {
    version,
    supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
    latestProtocolVersion: LATEST_PROTOCOL_VERSION,
    initializeResult,
    tools: answers[1].result.tools as ManifestTool[],
  };
}

type Answer = { id: unknown; result: Record<string, unknown> };

/** Sends raw JSON-RPC messages to a fresh server with every tool and returns its raw answers. */
export async function askServer(version: string, messages: JSONRPCMessage[], selection: ToolSelection = { allowWrites: true, enabledTools: [] }): Promise<Answer[]> {
  const server = createServer({ tokens: NO_TOKENS, graph: { endpoint: 'https://graph.invalid', tokens: NO_TOKENS }, armEndpoint: 'https://arm.invalid' }, version, selection);
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const expected = messages.filter(message => 'id' in message).length;
  const answers: Answer[] = [];
  const done = new Promise<void>(resolve => {
    client.onmessage = message => {
      answers.push(message as unknown as Answer);
      if (answers.length === expected) { resolve(); }
    };
  });
  await server.connect(serverSide);
  await client.start();
  for (const message of messages) { await client.send(message); }
  await done;
  await server.close();
  return answers;
}
