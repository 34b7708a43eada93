import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { formatAuditEvent } from '../../src/extension/audit';
import { TokenCache } from '../../src/extension/auth/tokenCache';
import { TokenService } from '../../src/extension/auth/tokenService';
import { createBrokerEndpoint } from '../../src/extension/broker/socketPath';
import { CLOUDS } from '../../src/shared/clouds';
import { toolDeclaration } from '../../src/shared/toolCatalogue';
import { graphError } from '../helpers/fakeGraph';
import { FakeProvider, MemorySecrets, MemoryState } from '../helpers/fakeProvider';
import { recordVisible } from '../helpers/leakWatch';
import { waitFor } from '../helpers/waitFor';
import { McpHarness, McpOptions, resultText } from '../helpers/mcpHarness';

const BROKER_GONE = /not reachable.*reload/i;

describe('faults: Graph and ARM misbehaving', () => {
  let mcp: McpHarness;
  afterEach(async () => { await mcp.stop(); });
  const start = async (options: McpOptions = {}) => { mcp = await McpHarness.start(options); };

  it('a 429 storm with Retry-After: bounded retries, then a clear error', async () => {
    await start();
    mcp.graph.route('GET /v1.0/me', () => graphError(429, 'TooManyRequests', 'Slow down', { 'Retry-After': '0' }));
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /busy|throttl|too many/i);
    assert.equal(mcp.graph.requests.length, 4, 'the first try and three retries');
  });

  it('a 429 storm without Retry-After: exponential backoff, then a clear error', async () => {
    await start({ retry: { delaySeconds: 0, maxRetries: 2, maxRetryAfterSeconds: 5 } });
    mcp.graph.route('GET /v1.0/me', () => graphError(429, 'TooManyRequests', 'Slow down'));
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    const [first, second, third] = mcp.graph.requests.map(request => request.at);
    assert.equal(mcp.graph.requests.length, 3);
    assert.ok(third - second > second - first && third - second >= 1_900, `backs off: ${Math.round(second - first)} ms, then ${Math.round(third - second)} ms`);
  });

  it('503 and 504 are retried for reads and end in success', async () => {
    await start();
    mcp.graph.script(graphError(503, 'ServiceUnavailable', 'Busy', { 'Retry-After': '0' }), graphError(504, 'GatewayTimeout', 'Slow', { 'Retry-After': '0' }));
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, undefined, resultText(result));
    assert.equal(mcp.graph.requests.length, 3);
  });

  it('an ARM 429 is retried like Graph\'s', async () => {
    await start();
    mcp.graph.script(graphError(429, 'TooManyRequests', 'Slow down', { 'Retry-After': '0' }));
    const result = await mcp.call('list_subscriptions');
    assert.equal(result.isError, undefined, resultText(result));
  });

  it('a connection reset ends in a clear error, without hanging', async () => {
    await start();
    mcp.graph.script({ status: 0, reset: true });
    const started = Date.now();
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /could not reach|network|connection/i);
    assert.ok(Date.now() - started < 5_000);
  });

  it('a response slower than the timeout is abandoned with a clear error', async () => {
    await start({ graphTimeoutMs: 300 });
    mcp.graph.script({ status: 200, body: {}, delayMs: 5_000 });
    const started = Date.now();
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /timed out/i);
    assert.ok(Date.now() - started < 2_000, 'bounded by the timeout');
    await waitFor(() => mcp.graph.requests[0].abandoned, 'the request to be abandoned');
  });

  it('malformed JSON from Graph ends in a clear error', async () => {
    await start();
    mcp.graph.script({ status: 200, body: '{"id": "87d3', headers: { 'content-type': 'application/json' } });
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /Graph/);
    assert.doesNotMatch(resultText(result), /unexpectedly/, 'an expected failure, explained');
  });

  it('cancellation from the client abandons the request in flight', async () => {
    await start();
    mcp.graph.script({ status: 200, body: {}, delayMs: 5_000 });
    const controller = new AbortController();
    const call = mcp.call('get_my_profile', {}, controller.signal);
    await waitFor(() => mcp.graph.requests.length === 1, 'the first request');
    controller.abort();
    await assert.rejects(call, /abort/i);
    await waitFor(() => mcp.graph.requests[0].abandoned, 'the request to be abandoned');
  });

  it('cancellation during a retry wait sends no further request', async () => {
    await start();
    mcp.graph.script(graphError(429, 'TooManyRequests', 'Slow down', { 'Retry-After': '1' }));
    const controller = new AbortController();
    const call = mcp.call('get_my_profile', {}, controller.signal);
    await waitFor(() => mcp.graph.requests.length === 1, 'the first request');
    controller.abort();
    await assert.rejects(call, /abort/i);
    await new Promise(resolve => setTimeout(resolve, 1_500));
    assert.equal(mcp.graph.requests.length, 1);
  });

  it('cancellation while paging stops at the page in flight', async () => {
    await start();
    mcp.graph.serveGroups(20, 2);
    mcp.graph.script({ status: 200, body: { value: [{ id: 'g1', displayName: 'Group 1' }], '@odata.nextLink': `${mcp.graph.endpoint}/v1.0/me/memberOf/microsoft.graph.group?$skiptoken=2` } },
      { status: 200, body: {}, delayMs: 5_000 });
    const controller = new AbortController();
    const call = mcp.call('list_my_groups', { limit: 20 }, controller.signal);
    await waitFor(() => mcp.graph.requests.length === 2, 'the second page\'s request');
    controller.abort();
    await assert.rejects(call, /abort/i);
    await new Promise(resolve => setTimeout(resolve, 300));
    assert.equal(mcp.graph.requests.length, 2);
  });
});

describe('faults: the extension host going away', () => {
  let mcp: McpHarness;
  afterEach(async () => { await mcp.stop(); });

  it('a broker that stops mid-request: the call ends quickly with what to do', async () => {
    mcp = await McpHarness.start({ handlers: { getToken: () => new Promise(() => undefined) } });
    const call = mcp.call('get_my_profile');
    await waitFor(() => mcp.broker.broker.connectionCount === 1, 'the server to connect to the broker');
    const started = Date.now();
    await mcp.broker.broker.stop();
    const result = await call;
    assert.equal(result.isError, true);
    assert.match(resultText(result), BROKER_GONE);
    assert.ok(Date.now() - started < 3_000);
  });

  it('a frozen extension host that accepts but never answers: bounded by the handshake timeout', async () => {
    const frozen = createBrokerEndpoint();
    const sockets: net.Socket[] = [];
    const server = net.createServer(socket => { sockets.push(socket); });
    await new Promise<void>(resolve => server.listen(frozen.path, resolve));
    try {
      mcp = await McpHarness.start({ brokerClient: { helloTimeoutMs: 300 } });
      await mcp.disconnect();
      await mcp.connect(undefined, frozen.path, 'a'.repeat(64));
      const started = Date.now();
      const result = await mcp.call('get_my_profile');
      assert.equal(result.isError, true);
      assert.match(resultText(result), BROKER_GONE);
      assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) { socket.destroy(); }
      await new Promise(resolve => server.close(resolve));
      frozen.dispose();
    }
  });

  it('a broker that stops answering after the handshake: bounded by the request timeout, not retried', async () => {
    mcp = await McpHarness.start({ handlers: { getToken: () => new Promise(() => undefined) }, brokerClient: { requestTimeoutMs: 300 } });
    const started = Date.now();
    const result = await mcp.call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), BROKER_GONE);
    assert.ok(Date.now() - started < 2_000, `${Date.now() - started} ms`);
  });

  it('a new broker from a reloaded window refuses the old server\'s secret; the old server fails fast', async () => {
    mcp = await McpHarness.start();
    assert.equal((await mcp.call('get_my_profile')).isError, undefined);
    await mcp.broker.broker.stop();
    const reloaded = await mcp.broker.broker.start();
    assert.equal(reloaded.path === mcp.broker.path && reloaded.secret === mcp.broker.secret, false);
    const started = Date.now();
    const result = await mcp.call('get_my_profile');
    assert.match(resultText(result), BROKER_GONE);
    assert.ok(Date.now() - started < 3_000);
  });
});

describe('load: 1,000 concurrent tool calls through one server', () => {
  it('all succeed, and a cold cache asks the provider once per scope set', async function () {
    this.timeout(60_000);
    const provider = new FakeProvider();
    provider.delayMs = 50;
    const tokens = new TokenService({
      getSession: provider.getSession,
      cache: new TokenCache(new MemorySecrets()),
      state: new MemoryState(),
      settings: () => ({ cloud: CLOUDS.AzureCloud, tenant: 'organizations', promptForSignIn: true }),
      confirmSignIn: async () => true,
      audit: event => recordVisible('audit', formatAuditEvent(event)),
    });
    const mcp = await McpHarness.start({ handlers: { getToken: params => tokens.getToken(params) } });
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['get_my_profile', {}], ['list_my_groups', { limit: 5 }], ['list_events', { start: '2026-11-23T00:00:00Z', end: '2026-11-24T00:00:00Z' }],
        ['list_messages', { limit: 5 }], ['list_subscriptions', {}],
      ];
      mcp.graph.serveGroups(5, 5);
      const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => mcp.call(...calls[i % calls.length])));
      const failures = results.filter(result => result.isError).map(resultText);
      assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of 1000 failed`);
      const sessionsPerScopeSet = new Map<string, number>();
      for (const call of provider.calls) {
        const key = JSON.stringify(call.request);
        sessionsPerScopeSet.set(key, (sessionsPerScopeSet.get(key) ?? 0) + 1);
      }
      const scopeSets = new Set(calls.map(([tool]) => toolDeclaration(tool).scopes.join(' ')));
      assert.equal(sessionsPerScopeSet.size, scopeSets.size, `the provider was asked for ${[...sessionsPerScopeSet.keys()].join(', ')}`);
      assert.deepEqual([...sessionsPerScopeSet.values()], [...scopeSets].map(() => 1), 'exactly one getSession per scope set');
    } finally {
      await mcp.stop();
    }
  });
});
