/**
 * The MCP endpoint's direct answer to a single message against the SDK's own Streamable HTTP
 * transport, side by side: two remote servers alike but for that, the same requests, the same
 * answers (status, content type, body), refusals included.
 */
import * as assert from 'node:assert/strict';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { FakeEntra } from '../helpers/fakeEntra';
import { ALICE, RemoteHarness, SERVER_CLIENT_ID, SERVER_SECRET, rpc, startRemoteHarness } from '../helpers/remoteHarness';

const JSON_AND_SSE = 'application/json, text/event-stream';

interface Case {
  readonly name: string;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const CASES: Case[] = [
  { name: 'initialize', body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } }) },
  { name: 'tools/list', body: rpc('tools/list', {}, 'list-1') },
  { name: 'tools/call', body: rpc('tools/call', { name: 'get_my_profile', arguments: {} }, 7) },
  { name: 'tools/call with bad arguments', body: rpc('tools/call', { name: 'get_my_profile', arguments: { surprise: 1 } }, 8) },
  { name: 'an unknown tool', body: rpc('tools/call', { name: 'no_such_tool', arguments: {} }, 9) },
  { name: 'an unknown method', body: rpc('resources/list', {}, 10) },
  { name: 'ping', body: rpc('ping', {}, 11) },
  { name: 'a notification', body: { jsonrpc: '2.0', method: 'notifications/initialized' } },
  { name: 'a response', body: { jsonrpc: '2.0', id: 3, result: {} } },
  { name: 'not JSON-RPC', body: { hello: 'world' } },
  { name: 'a request without jsonrpc', body: { id: 1, method: 'ping' } },
  { name: 'a batch', body: [rpc('ping', {}, 1), rpc('tools/list', {}, 2)] },
  { name: 'Accept without text/event-stream', body: rpc('ping'), headers: { Accept: 'application/json' } },
  { name: 'no Accept', body: rpc('ping'), headers: { Accept: '' } },
  { name: 'an unsupported protocol version', body: rpc('ping'), headers: { 'Mcp-Protocol-Version': '1999-01-01' } },
  { name: 'a supported protocol version', body: rpc('ping'), headers: { 'Mcp-Protocol-Version': '2025-06-18' } },
  { name: 'initialize with any protocol version header', body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } }), headers: { 'Mcp-Protocol-Version': '1999-01-01' } },
];

describe('the MCP endpoint\'s direct answers match the SDK transport\'s', function () {
  this.timeout(30_000);
  const entra = new FakeEntra({ apps: [{ clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET }] });
  let direct: RemoteHarness;
  let sdk: RemoteHarness;
  /** Requests the SDK's transport handled, per harness port: the direct path must leave it only batches. */
  const sdkHandled = new Map<string, number>();
  const original = StreamableHTTPServerTransport.prototype.handleRequest;

  before(async () => {
    StreamableHTTPServerTransport.prototype.handleRequest = function (this: StreamableHTTPServerTransport, req, res, parsedBody) {
      const port = String(req.socket.localPort);
      sdkHandled.set(port, (sdkHandled.get(port) ?? 0) + 1);
      return original.call(this, req, res, parsedBody);
    };
    await entra.start();
    direct = await startRemoteHarness({ entra });
    sdk = await startRemoteHarness({ entra, tuning: { sdkTransportOnly: true } });
  });

  after(async () => {
    StreamableHTTPServerTransport.prototype.handleRequest = original;
    await direct.stop();
    await sdk.stop();
    await entra.stop();
  });

  async function answer(harness: RemoteHarness, { body, headers = {} }: Case) {
    const response = await harness.post(body, { Authorization: `Bearer ${harness.token(ALICE)}`, Accept: JSON_AND_SSE, ...headers });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), body: text ? JSON.parse(text) as unknown : undefined };
  }

  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const [ours, theirs] = [await answer(direct, testCase), await answer(sdk, testCase)];
      assert.deepEqual(ours, theirs);
    });
  }

  it('only the batch went through the SDK\'s transport on the direct side; everything did on the other', () => {
    assert.equal(sdkHandled.get(String(direct.running.port)), 1);
    assert.equal(sdkHandled.get(String(sdk.running.port)), CASES.length);
  });

  it('both audit the same methods and outcomes', async () => {
    const lines = (harness: RemoteHarness) => harness.audit.filter(line => line.event === 'mcp_request').map(line => [line.status, line.method, line.tool, line.outcome]);
    assert.deepEqual(lines(direct), lines(sdk));
  });

  it('a client that goes away cancels its call (the Graph request is abandoned)', async () => {
    direct.graph.script({ status: 200, body: {}, delayMs: 5_000 });
    const before = direct.graph.requests.length;
    const controller = new AbortController();
    const call = fetch(direct.url, {
      method: 'POST', signal: controller.signal,
      headers: { 'Content-Type': 'application/json', Accept: JSON_AND_SSE, Authorization: `Bearer ${direct.token(ALICE)}` },
      body: JSON.stringify(rpc('tools/call', { name: 'get_my_profile', arguments: {} })),
    });
    for (let waited = 0; direct.graph.requests.length === before && waited < 5_000; waited += 20) { await new Promise(resolve => setTimeout(resolve, 20)); }
    controller.abort();
    await assert.rejects(call);
    for (let waited = 0; direct.graph.requests.at(-1)?.abandoned !== true && waited < 5_000; waited += 20) { await new Promise(resolve => setTimeout(resolve, 20)); }
    assert.equal(direct.graph.requests.at(-1)?.abandoned, true);
  });
});
