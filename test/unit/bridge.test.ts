/**
 * Bridge mode: the bundled server forwarding the organization's remote server (ours, in Entra
 * mode, against the fake Entra ID and fake Graph) with tokens the real broker serves per request.
 * What a user relies on: the remote tools work as themselves, a token is fetched for every
 * request and renewed once after a 401, it never goes anywhere but the configured server, and
 * every failure says what to do.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { BrokerError } from '../../src/extension/auth/brokerError';
import { BrokerClient } from '../../src/server/brokerClient';
import { readBridgeConfig } from '../../src/server/bridge/bridgeConfig';
import { Bridge, createBridge } from '../../src/server/bridge/bridgeServer';
import { httpsFetch } from '../../src/server/graph/httpsFetch';
import { FetchLike, remoteFetch } from '../../src/server/bridge/remoteFetch';
import { GetRemoteTokenParams, GetTokenResult, RemoteOutcomeParams } from '../../src/shared/protocol';
import { Harness, startBroker } from '../helpers/brokerHarness';
import { freePort } from '../helpers/loadBalancer';
import { startLocalHttps, stopLocalHttps, tlsEnv } from '../helpers/localHttps';
import { ALICE, RemoteHarness, TENANT_ID, resultText, startRemoteHarness } from '../helpers/remoteHarness';
import { IssueOptions } from '../helpers/fakeEntra';
import { waitFor } from '../helpers/waitFor';

const SECRET = 'ab'.repeat(32);

describe('bridge to a remote server', function () {
  this.timeout(30_000);
  let remote: RemoteHarness;
  let broker: Harness;
  let tokens: BrokerClient;
  const tokenRequests: GetRemoteTokenParams[] = [];
  const outcomes: RemoteOutcomeParams[] = [];
  /** How the next tokens are issued; a test may script a refusal instead. */
  let issue: Partial<IssueOptions> = {};
  /** Issued first, one per token request, before `issue` applies again. */
  let nextIssues: Array<Partial<IssueOptions>> = [];
  let refusal: BrokerError | undefined;
  const httpRequests: string[] = [];

  before(async () => {
    remote = await startRemoteHarness({ env: { ...tlsEnv(), ENTRA_MCP_CLOCK_SKEW_SECONDS: '0' }, tuning: { jwksCooldownMs: 0 } });
    broker = await startBroker({
      handlers: {
        getRemoteToken: async params => {
          tokenRequests.push(params);
          if (refusal) { throw refusal; }
          return tokenFor(remote.token(ALICE, nextIssues.shift() ?? issue));
        },
        remoteOutcome: params => { outcomes.push(params); },
      },
    });
    tokens = new BrokerClient({ path: broker.path, secret: broker.secret, clientVersion: 'test' });
  });

  after(async () => {
    tokens.dispose();
    await broker.broker.stop();
    await remote.stop();
  });

  beforeEach(() => {
    tokenRequests.length = 0;
    outcomes.length = 0;
    httpRequests.length = 0;
    issue = {};
    nextIssues = [];
    refusal = undefined;
  });

  /** Records every request the bridge puts on the network, then sends it the bridge's own way (httpsFetch). */
  const countingFetch: FetchLike = (url, init) => {
    httpRequests.push(`${init?.method ?? 'GET'} ${String(url)}`);
    return httpsFetch(url, init);
  };

  async function connectBridge(url = remote.url): Promise<{ client: Client; bridge: Bridge }> {
    const bridge = createBridge({ config: { remoteUrl: url, name: 'contoso_tools' }, tokens, version: '1.2.3', fetch: countingFetch });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await bridge.server.connect(serverSide);
    const client = new Client({ name: 'vscode-test', version: '1.0.0' });
    await client.connect(clientSide);
    return { client, bridge };
  }

  async function withBridge(use: (client: Client) => Promise<void>, url?: string): Promise<void> {
    const { client, bridge } = await connectBridge(url);
    try {
      await use(client);
    } finally {
      await client.close();
      await bridge.close();
    }
  }

  it('names itself as configured and lists the remote server\'s tools, exactly as the server lists them', () => withBridge(async client => {
    assert.equal(client.getServerVersion()?.name, 'contoso_tools');
    const direct = await remote.connect(remote.token(ALICE));
    try {
      const expected = (await direct.listTools()).tools;
      const listed = (await client.listTools()).tools;
      assert.deepEqual(listed, expected);
      assert.ok(listed.some(tool => tool.name === 'get_my_profile'));
    } finally {
      await direct.close();
    }
  }));

  it('a remote tool acts as the signed-in user; the broker is asked by URL only, never for a scope', () => withBridge(async client => {
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.ok(!result.isError, resultText(result));
    assert.match(resultText(result), /Alice Smith/);
    assert.ok(tokenRequests.length >= 1);
    for (const request of tokenRequests) { assert.deepEqual(Object.keys(request), ['server']); assert.equal(request.server, remote.url); }
    assert.deepEqual(outcomes.at(-1), { server: remote.url, ok: true });
  }));

  it('fetches a token from the broker for every request it sends', () => withBridge(async client => {
    await client.callTool({ name: 'get_my_profile', arguments: {} });
    await client.callTool({ name: 'get_my_profile', arguments: {} });
    const posts = httpRequests.filter(line => line.startsWith('POST'));
    assert.ok(posts.length >= 3, 'initialize, initialized and two calls');
    assert.ok(tokenRequests.length >= httpRequests.length, `${tokenRequests.length} tokens for ${httpRequests.length} requests`);
  }));

  it('an expired token (401) is replaced once, fetched past the broker\'s cache, and the call succeeds', () => withBridge(async client => {
    await client.listTools();
    // Only the first token of the call is stale (the broker's cache was behind): the renewed one is good.
    nextIssues = [{ expiresInSeconds: -60 }];
    tokenRequests.length = 0;
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.match(resultText(result), /Alice Smith/);
    assert.deepEqual(tokenRequests.map(request => request.forceRefresh ?? false), [false, true]);
    assert.ok(remote.audit.some(line => line.status === 401), 'the server did refuse the expired token');
  }));

  it('a second 401 ends the call with the server\'s reason and what to do, after exactly one renewal', () => withBridge(async client => {
    await client.listTools();
    issue = { expiresInSeconds: -60 };
    tokenRequests.length = 0;
    httpRequests.length = 0;
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(resultText(result), /refused your sign-in twice \(401\)/);
    assert.match(resultText(result), /expired/i);
    assert.match(resultText(result), /Sign Out/);
    assert.equal(tokenRequests.length, 2);
    assert.equal(httpRequests.length, 2);
    assert.equal(outcomes.at(-1)?.ok, false);
    assert.match(outcomes.at(-1)?.message ?? '', /401/);
  }));

  it('no app role: the server\'s 403 reaches the user, naming the role to ask for', () => withBridge(async client => {
    issue = { roles: [] };
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(resultText(result), /403/);
    assert.match(resultText(result), /no app role/);
    assert.match(resultText(result), /Tools\.Read/);
  }));

  it('not signed in: the broker\'s message is the result, and nothing is sent to the server', () => withBridge(async client => {
    refusal = new BrokerError('NotSignedIn', 'You are not signed in to Microsoft. Run "Entra MCP: Sign In".');
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(resultText(result), /Entra MCP: Sign In/);
    assert.deepEqual(httpRequests, []);
    refusal = undefined;
    const recovered = await client.callTool({ name: 'get_my_profile', arguments: {} });
    assert.match(resultText(recovered), /Alice Smith/, 'after signing in, the same bridge works');
  }));

  it('progress our own remote server streams reaches the client under the client\'s own progress token', () => withBridge(async client => {
    remote.graph.serveGroups(4, 2);
    const progress: number[] = [];
    const result = await client.request({ method: 'tools/call', params: { name: 'list_my_groups', arguments: { limit: 10 } } }, CallToolResultSchema, {
      onprogress: update => { progress.push(update.progress); },
    });
    assert.equal((result.structuredContent as { groups: unknown[] }).groups.length, 4);
    assert.deepEqual(progress, [2, 4]);
  }));

  it('a server that is not reachable: the result says so and what to check', async () => {
    const closed = await freePort();
    await withBridge(async client => {
      const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
      assert.equal(result.isError, true);
      assert.match(resultText(result), /not reachable \((connect )?ECONNREFUSED[ )]/);
      assert.match(resultText(result), /network connection and VPN/);
    }, `https://127.0.0.1:${closed}/mcp`);
  });

  it('a failed tools/list is an error that says what went wrong', async () => {
    refusal = new BrokerError('NotSignedIn', 'You are not signed in to Microsoft. Run "Entra MCP: Sign In".');
    await withBridge(async client => {
      await assert.rejects(client.listTools(), /Entra MCP: Sign In/);
    });
  });

  it('cancellation reaches the remote server, which abandons its Graph request', () => withBridge(async client => {
    await client.listTools();
    remote.graph.script({ status: 200, body: {}, delayMs: 5_000 });
    const controller = new AbortController();
    const before = remote.graph.requests.length;
    const call = client.callTool({ name: 'get_my_profile', arguments: {} }, undefined, { signal: controller.signal });
    await waitFor(() => remote.graph.requests.length > before, 'the remote server to call Graph', 10_000, 25);
    controller.abort();
    await assert.rejects(call);
    await waitFor(() => remote.graph.requests.at(-1)?.abandoned === true, 'the Graph request to be abandoned', 10_000, 25);
  }));

  describe('its network edge', () => {
    let fake: import('node:https').Server;
    let fakeUrl: string;
    let replies: Array<(res: http.ServerResponse) => void>;
    const seen: Array<{ authorization?: string; url?: string }> = [];
    const sent: GetRemoteTokenParams[] = [];
    let counter = 0;
    const fakeTokens = {
      getRemoteToken: async (server: string, options: { wwwAuthenticate?: string; forceRefresh?: boolean } = {}) => {
        sent.push({ server, ...options });
        return tokenFor(`token-${++counter}`);
      },
      reportOutcome: async () => undefined,
    };

    before(async () => {
      fake = await startLocalHttps((req, res) => {
        seen.push({ authorization: req.headers.authorization, url: req.url });
        (replies.shift() ?? (r => { r.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'); }))(res);
      });
      fakeUrl = `https://127.0.0.1:${(fake.address() as AddressInfo).port}/mcp`;
    });
    after(() => stopLocalHttps(fake));
    beforeEach(() => { replies = []; seen.length = 0; sent.length = 0; });

    const post = (url = fakeUrl, fetchOptions = {}) => remoteFetch({ server: fakeUrl, tokens: fakeTokens, retry: { baseDelayMs: 10, maxRetries: 3, maxRetryAfterSeconds: 2 }, ...fetchOptions })(url, { method: 'POST', body: '{}' });

    it('a claims challenge is answered with a token for that challenge, once', async () => {
      const challenge = 'Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"';
      replies.push(res => res.writeHead(401, { 'WWW-Authenticate': challenge }).end());
      const response = await post();
      assert.equal(response.status, 200);
      assert.deepEqual(sent.map(request => request.wwwAuthenticate), [undefined, challenge]);
      assert.deepEqual(seen.map(request => request.authorization), [`Bearer token-${counter - 1}`, `Bearer token-${counter}`]);
    });

    it('429 and 503 are retried, honouring Retry-After; a longer Retry-After ends the call at once', async () => {
      replies.push(res => res.writeHead(429, { 'Retry-After': '1' }).end(), res => res.writeHead(503).end());
      assert.equal((await post()).status, 200);
      assert.equal(seen.length, 3);
      seen.length = 0;
      replies.push(res => res.writeHead(429, { 'Retry-After': '120', 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Too many requests' } })));
      await assert.rejects(post(), /busy \(429\): Too many requests\. Try again in a minute/);
      assert.equal(seen.length, 1);
    });

    it('a redirect is refused, and the other server never sees the token', async () => {
      const elsewhere: string[] = [];
      const other = await startLocalHttps((req, res) => { elsewhere.push(String(req.headers.authorization)); res.end(); });
      try {
        const target = `https://127.0.0.1:${(other.address() as AddressInfo).port}/steal`;
        replies.push(res => res.writeHead(307, { Location: target }).end());
        await assert.rejects(post(), /redirect \(307\); it was not followed/);
        assert.deepEqual(elsewhere, []);
      } finally {
        await stopLocalHttps(other);
      }
    });

    it('the token is only sent to the configured origin over https', async () => {
      await assert.rejects(post(fakeUrl.replace('https:', 'http:')), /only goes to https:\/\/127\.0\.0\.1/);
      await assert.rejects(post('https://evil.example/mcp'), /Refused to send your sign-in to https:\/\/evil\.example/);
      assert.deepEqual(sent, [], 'no token was even asked for');
      assert.deepEqual(seen, []);
    });

    it('progress a server streams (the SDK\'s own Streamable HTTP server) reaches the client under the client\'s own progress token', async () => {
      const streaming = await startStreamingServer();
      try {
        const bridge = createBridge({ config: { remoteUrl: streaming.url, name: 'streaming' }, tokens: fakeTokens, version: '1.2.3' });
        const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
        await bridge.server.connect(serverSide);
        const client = new Client({ name: 'vscode-test', version: '1.0.0' });
        await client.connect(clientSide);
        const progress: Array<{ progress: number; message?: string }> = [];
        const result = await client.request({ method: 'tools/call', params: { name: 'count', arguments: {} } }, CallToolResultSchema, {
          onprogress: update => { progress.push({ progress: update.progress, message: update.message }); },
        });
        assert.equal(resultText(result), 'counted to 3');
        assert.deepEqual(progress, [{ progress: 1, message: 'one' }, { progress: 2, message: 'two' }, { progress: 3, message: 'three' }]);
        assert.ok(streaming.authorizations.every(value => /^Bearer token-\d+$/.test(value ?? '')));
        await client.close();
        await bridge.close();
      } finally {
        await streaming.stop();
      }
    });

    it('a token in a server\'s error text is never quoted', async () => {
      replies.push(res => res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: -32003, message: 'nope for eyJabc.eyJdef.sig123' } })));
      await assert.rejects(post(), (error: Error) => !/eyJ/.test(error.message) && /token removed/.test(error.message));
    });
  });

  describe('configuration', () => {
    const env = (extra: Record<string, string | undefined>) => ({ ENTRA_MCP_BROKER: '/tmp/x.sock', ENTRA_MCP_BROKER_SECRET: SECRET, ENTRA_MCP_REMOTE_URL: 'https://mcp.contoso.com/mcp', ENTRA_MCP_REMOTE_NAME: 'contoso_tools', ...extra });

    it('reads the broker address, the URL exactly as configured, and the name', () => {
      assert.deepEqual(readBridgeConfig(env({ ENTRA_MCP_REMOTE_URL: 'https://mcp.contoso.com/mcp/' })),
        { brokerPath: '/tmp/x.sock', brokerSecret: SECRET, remoteUrl: 'https://mcp.contoso.com/mcp/', name: 'contoso_tools' });
    });

    it('refuses http, credentials in the URL, a bad name and a weak secret', () => {
      assert.throws(() => readBridgeConfig(env({ ENTRA_MCP_REMOTE_URL: 'http://mcp.contoso.com/mcp' })), /https/);
      assert.throws(() => readBridgeConfig(env({ ENTRA_MCP_REMOTE_URL: 'https://u:p@mcp.contoso.com/mcp' })), /credentials/);
      assert.throws(() => readBridgeConfig(env({ ENTRA_MCP_REMOTE_URL: 'not a url' })), /not a URL/);
      assert.throws(() => readBridgeConfig(env({ ENTRA_MCP_REMOTE_NAME: 'Contoso Tools' })), /lowercase/);
      assert.throws(() => readBridgeConfig(env({ ENTRA_MCP_BROKER_SECRET: 'short' })), /32 random bytes/);
    });
  });

  it('as a process (node dist/server.js in bridge mode): lists and calls the remote tools, and exits when stdin closes', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(__dirname, '..', '..', '..', 'dist', 'server.js')],
      env: {
        PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
        ENTRA_MCP_BROKER: broker.path, ENTRA_MCP_BROKER_SECRET: broker.secret, ENTRA_MCP_REMOTE_URL: remote.url, ENTRA_MCP_REMOTE_NAME: 'contoso_tools',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'vscode-test', version: '1.0.0' });
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'contoso_tools');
    assert.ok((await client.listTools()).tools.some(tool => tool.name === 'get_my_profile'));
    assert.match(resultText(await client.callTool({ name: 'get_my_profile', arguments: {} })), /Alice Smith/);
    const pid = transport.pid!;
    await client.close();
    await waitFor(() => !isAlive(pid), 'the bridge to exit', 10_000, 25);
  });

  it('as a process, a bad configuration fails at once with a message naming the variable', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', '..', 'dist', 'server.js')], {
      env: { PATH: process.env.PATH ?? '', ENTRA_MCP_BROKER: broker.path, ENTRA_MCP_BROKER_SECRET: broker.secret, ENTRA_MCP_REMOTE_URL: 'http://mcp.contoso.com/mcp', ENTRA_MCP_REMOTE_NAME: 'x' },
    });
    let stderr = '';
    child.stderr.on('data', chunk => { stderr += String(chunk); });
    const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /ENTRA_MCP_REMOTE_URL is refused: http:\/\/mcp\.contoso\.com\/mcp must be an https:\/\/ URL/);
  });
});

/** The SDK's own MCP server, stateless, answering with SSE streams (so progress can flow), over local https. */
async function startStreamingServer(): Promise<{ url: string; authorizations: Array<string | undefined>; stop(): Promise<void> }> {
  const authorizations: Array<string | undefined> = [];
  const https = await startLocalHttps((req, res) => {
    authorizations.push(req.headers.authorization);
    const server = new McpServer({ name: 'streaming', version: '1.0.0' });
    server.registerTool('count', { description: 'Counts to three, reporting progress.' }, async extra => {
      const token = extra._meta?.progressToken;
      for (const [progress, message] of [[1, 'one'], [2, 'two'], [3, 'three']] as const) {
        if (token !== undefined) { await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, message } }); }
      }
      return { content: [{ type: 'text', text: 'counted to 3' }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.once('close', () => { void transport.close(); void server.close(); });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  return { url: `https://127.0.0.1:${(https.address() as AddressInfo).port}/mcp`, authorizations, stop: () => stopLocalHttps(https) };
}

function tokenFor(accessToken: string): GetTokenResult {
  return { accessToken, expiresOn: Date.now() + 3_600_000, account: 'alice@contoso.com', tenantId: TENANT_ID };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
