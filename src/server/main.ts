/**
 * Entry point of the bundled MCP server, started by VS Code over stdio (or by hand with the
 * ENTRA_MCP_* variables set). Wires configuration, the broker client and the transport.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { BrokerClient } from './brokerClient';
import { readServerConfig } from './config';
import { createServer } from './createServer';

declare const SERVER_VERSION: string | undefined;
const version = typeof SERVER_VERSION === 'string' ? SERVER_VERSION : '0.0.0-dev';

// stdout carries MCP messages; a stray console.log from a dependency must not corrupt it.
console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);

async function main(): Promise<void> {
  const config = readServerConfig(process.env);
  const tokens = new BrokerClient({ path: config.brokerPath, secret: config.brokerSecret, clientVersion: version });
  const server = createServer({ tokens, graph: { endpoint: config.graphEndpoint, tokens }, armEndpoint: config.armEndpoint }, version, config.tools);
  const transport = new StdioServerTransport();
  transport.onclose = () => {
    tokens.dispose();
    process.exit(0);
  };
  // The client's stdin closing means VS Code is gone: exit rather than linger.
  process.stdin.on('end', () => process.exit(0));
  await server.connect(transport);
  void tokens.warmUp();
}

main().catch(error => {
  process.stderr.write(`[entra-mcp] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
