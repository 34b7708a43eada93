import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { JSONRPCMessage, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { ENV } from '../../src/shared/env';
import { ToolSelection } from '../../src/shared/toolCatalogue';
import { askServer, describeServer } from '../../src/server/startup/describeServer';
import { EarlyResponder } from '../../src/server/startup/earlyResponder';
import { StartupManifest } from '../../src/server/startup/manifest';
import { Harness, startBroker } from '../helpers/brokerHarness';
import { FakeGraph } from '../helpers/fakeGraph';

const DIST = join(__dirname, '..', '..', '..', 'dist');
const VERSION = '1.2.3';

function initialize(protocolVersion: string, id: number | string = 1): JSONRPCMessage {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities: { roots: { listChanged: true } }, clientInfo: { name: 'Visual Studio Code', version: '1.139.0' } } };
}
const INITIALIZED: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
const LIST: JSONRPCMessage = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** What the client receives: JSON drops keys whose value is undefined. */
function onTheWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('start-up: early answers from the manifest', () => {
  let manifest: StartupManifest;
  before(async () => { manifest = await describeServer(VERSION); });

  const selections: Array<[string, ToolSelection]> = [
    ['the default read-only selection', { allowWrites: false, enabledTools: [] }],
    ['writes allowed', { allowWrites: true, enabledTools: [] }],
    ['a user\'s enabled-tools patterns', { allowWrites: true, enabledTools: ['list_*', 'auth_status'] }],
  ];
  for (const [label, selection] of selections) {
    for (const protocolVersion of [...SUPPORTED_PROTOCOL_VERSIONS, '2099-01-01']) {
      it(`answers exactly as the SDK does: ${label}, protocol ${protocolVersion}`, async () => {
        const messages = [initialize(protocolVersion, 'init-1'), INITIALIZED, LIST];
        const fromSdk = await askServer(VERSION, messages, selection);
        const responder = new EarlyResponder(manifest, selection);
        const early = messages.map(message => responder.answer(message)).filter(answer => answer !== true);
        assert.deepEqual(onTheWire(early), onTheWire(fromSdk));
      });
    }
  }

  it('leaves anything unusual to the SDK', () => {
    const responder = new EarlyResponder(manifest, { allowWrites: false, enabledTools: [] });
    assert.equal(responder.answer(LIST), undefined, 'tools/list before initialize');
    assert.equal(responder.answer({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION } }), undefined, 'initialize without clientInfo');
    assert.equal(responder.answer({ ...initialize(LATEST_PROTOCOL_VERSION), jsonrpc: '1.0' } as unknown as JSONRPCMessage), undefined);
    assert.ok(responder.answer(initialize(LATEST_PROTOCOL_VERSION)));
    assert.equal(responder.answer(initialize(LATEST_PROTOCOL_VERSION, 5)), undefined, 'a second initialize');
    assert.equal(responder.answer({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: 'next' } }), undefined, 'a later page');
    assert.equal(responder.answer({ jsonrpc: '2.0', id: 4, method: 'ping' }), undefined);
    assert.equal(responder.answer({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'get_my_profile' } }), undefined);
  });

  it('ships a manifest captured from this build\'s server', async () => {
    const shipped = JSON.parse(readFileSync(join(DIST, 'manifest.json'), 'utf8')) as StartupManifest;
    const version = JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')).version as string;
    assert.deepEqual(shipped, onTheWire(await describeServer(version)));
  });
});

describe('start-up: the bundled server process', () => {
  let graph: FakeGraph;
  let harness: Harness;
  let scratch: string | undefined;
  beforeEach(async () => {
    graph = new FakeGraph();
    await graph.start();
    harness = await startBroker();
  });
  afterEach(async () => {
    await harness.broker.stop();
    await graph.stop();
    if (scratch) { rmSync(scratch, { recursive: true, force: true }); scratch = undefined; }
  });

  async function session(serverScript: string): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [serverScript],
      env: {
        [ENV.broker]: harness.path, [ENV.brokerSecret]: harness.secret, [ENV.graphEndpoint]: graph.endpoint, [ENV.armEndpoint]: graph.endpoint,
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
      },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'test-client', version: '1' });
    await client.connect(transport);
    return client;
  }

  async function listThenCall(client: Client): Promise<void> {
    const { tools } = await client.listTools();
    assert.equal(tools.length, 28, 'the read-only tools');
    assert.equal(client.getServerVersion()?.name, 'entra');
    await client.ping();
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    assert.equal((result.structuredContent as { displayName: string }).displayName, 'Megan Bowen');
    await client.close();
  }

  it('answers the tool list early, then hands over to the SDK for tool calls', async () => {
    await listThenCall(await session(join(DIST, 'server.js')));
    assert.equal(graph.requests.length, 1);
  });

  it('works the same when the manifest is missing: the SDK answers everything', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'entra-mcp-'));
    for (const file of ['server.js', 'server-main.js']) { copyFileSync(join(DIST, file), join(scratch, file)); }
    await listThenCall(await session(join(scratch, 'server.js')));
  });
});
