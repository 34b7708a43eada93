/**
 * Compatibility matrix: the oldest and newest MCP SDK clients the server claims to support,
 * each negotiating every protocol version it knows with the bundled server (dist/server.js),
 * listing the tools, calling auth_status and closing stdin. Old clients are loaded by name at run
 * time and typed loosely: their types are not this project's.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENV } from '../../src/shared/env';
import { Harness, startBroker } from '../helpers/brokerHarness';

const SERVER = join(__dirname, '..', '..', '..', 'dist', 'server.js');

interface ClientPackage {
  readonly label: string;
  readonly client: string;
  readonly stdio: string;
  readonly types: string;
}

const CLIENTS: readonly ClientPackage[] = [
  { label: 'mcp-sdk 1.0.4', client: 'mcp-sdk-1.0/client/index.js', stdio: 'mcp-sdk-1.0/client/stdio.js', types: 'mcp-sdk-1.0/types.js' },
  { label: 'mcp-sdk 1.12.3', client: 'mcp-sdk-1.12/client/index.js', stdio: 'mcp-sdk-1.12/client/stdio.js', types: 'mcp-sdk-1.12/types.js' },
  { label: 'mcp-sdk 1.32.2', client: '@modelcontextprotocol/sdk/client/index.js', stdio: '@modelcontextprotocol/sdk/client/stdio.js', types: '@modelcontextprotocol/sdk/types.js' },
  { label: 'v2 client 2.4.0', client: '@modelcontextprotocol/client', stdio: '@modelcontextprotocol/client/stdio', types: '@modelcontextprotocol/client' },
];

/** A specifier in a variable: loaded as the package's own ESM, not type-checked against this project. */
const load = (specifier: string): Promise<any> => import(specifier);

interface Row { client: string; protocolVersion: string; negotiated: string; tools: number; signedIn: boolean; exitCode: number | null }

/** One session: the client asks for `protocolVersion` (SDK clients always send their latest, so the request is rewritten). */
async function session(pkg: ClientPackage, protocolVersion: string, env: Record<string, string>): Promise<Row> {
  const [{ Client }, { StdioClientTransport }] = await Promise.all([load(pkg.client), load(pkg.stdio)]);
  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER], env, stderr: 'ignore' });
  let negotiated = '';
  const send = transport.send.bind(transport);
  transport.send = (message: any, ...rest: unknown[]) =>
    send(message.method === 'initialize' ? { ...message, params: { ...message.params, protocolVersion } } : message, ...rest);
  const start = transport.start.bind(transport);
  transport.start = () => {
    const deliver = transport.onmessage;
    transport.onmessage = (message: any, ...rest: unknown[]) => {
      if (typeof message?.result?.protocolVersion === 'string') { negotiated = message.result.protocolVersion; }
      deliver?.(message, ...rest);
    };
    return start();
  };
  // 1.0 requires the capabilities option; later clients default it.
  const client = new Client({ name: `matrix-${pkg.label}`, version: '1' }, { capabilities: {} });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const status = await client.callTool({ name: 'auth_status', arguments: {} });
  // Close stdin the way a client that is done does, and wait for the server to exit by itself.
  const child = transport._process;
  const exitCode = await new Promise<number | null>(resolve => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 8_000);
    child.once('exit', (code: number | null) => { clearTimeout(timer); resolve(code); });
    child.stdin.end();
  });
  await client.close().catch(() => undefined);
  return { client: pkg.label, protocolVersion, negotiated, tools: tools.length, signedIn: status.structuredContent?.signedIn === true, exitCode };
}

describe('start-up: compatibility matrix of SDK clients', () => {
  let harness: Harness;
  const rows: Row[] = [];
  before(async () => { harness = await startBroker(); });
  after(async () => {
    await harness.broker.stop();
    console.log(`client            requested    negotiated   tools signedIn exit\n${rows.map(row =>
      `${row.client.padEnd(17)} ${row.protocolVersion.padEnd(12)} ${row.negotiated.padEnd(12)} ${String(row.tools).padEnd(5)} ${String(row.signedIn).padEnd(8)} ${row.exitCode}`).join('\n')}`);
  });

  for (const pkg of CLIENTS) {
    it(`${pkg.label}: every protocol version it knows, tools listed, auth_status called, clean exit on EOF`, async function () {
      this.timeout(60_000);
      const { SUPPORTED_PROTOCOL_VERSIONS } = await load(pkg.types) as { SUPPORTED_PROTOCOL_VERSIONS: string[] };
      assert.ok(SUPPORTED_PROTOCOL_VERSIONS.length > 0);
      const env = { PATH: process.env.PATH ?? '', [ENV.broker]: harness.path, [ENV.brokerSecret]: harness.secret, [ENV.graphEndpoint]: 'https://graph.invalid', [ENV.armEndpoint]: 'https://arm.invalid' };
      for (const protocolVersion of SUPPORTED_PROTOCOL_VERSIONS) {
        const row = await session(pkg, protocolVersion, env);
        rows.push(row);
        assert.deepEqual(row, { client: pkg.label, protocolVersion, negotiated: protocolVersion, tools: 28, signedIn: true, exitCode: 0 });
      }
    });
  }
});
