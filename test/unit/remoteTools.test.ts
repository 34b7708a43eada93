/**
 * The remote server's tools as users reach them through the official SDK client over
 * Streamable HTTP: app roles filter the list and the calls, each user gets only their own data
 * through On-Behalf-Of (the fake Graph accepts nothing else), one exchange per user and scope
 * set, the per-user rate limit, consent errors, and the audit line of every call.
 */
import * as assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Redis } from 'ioredis';
import { FakeEntra, FakeEntraApp, FakeEntraUser, GRAPH_RESOURCE } from '../helpers/fakeEntra';
import { ALICE, BOB, RemoteHarness, SERVER_CLIENT_ID, SERVER_SECRET, TENANT_ID, resultText, rpc, startRemoteHarness } from '../helpers/remoteHarness';
import { recordVisible } from '../helpers/leakWatch';
import { redisAvailable, startRedis } from '../helpers/redisServer';

const CAROL: FakeEntraUser = { oid: 'ca201000-0000-4000-8000-000000000003', tid: TENANT_ID, upn: 'carol@contoso.com', name: 'Carol White' };

type ToolResult = { isError?: boolean; structuredContent?: Record<string, unknown>; content?: unknown };

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const result = await client.callTool({ name, arguments: args }) as ToolResult;
  recordVisible(`remote tool ${name}`, JSON.stringify(result));
  return result;
}

function exchangesOf(entra: FakeEntra, oid: string): Array<{ scopes: string[] }> {
  return entra.oboExchanges.filter(exchange => exchange.oid === oid);
}

describe('remote server: tools on behalf of each user', function () {
  this.timeout(30_000);
  let remote: RemoteHarness;
  const clients: Client[] = [];
  const connect = async (token: string) => {
    const client = await remote.connect(token);
    clients.push(client);
    return client;
  };

  before(async () => {
    remote = await startRemoteHarness({ env: { ENTRA_MCP_ALLOW_WRITES: 'true', ENTRA_MCP_RATE_LIMIT: '0' } });
  });
  after(async () => {
    await Promise.all(clients.map(client => client.close().catch(() => undefined)));
    await remote?.stop();
  });

  it('shows a Tools.Read user the read-only tools only, and refuses a write tool naming Tools.Write', async () => {
    const client = await connect(remote.token(ALICE, { roles: ['Tools.Read'] }));
    const names = (await client.listTools()).tools.map(tool => tool.name);
    assert.ok(names.includes('get_my_profile') && names.includes('list_subscriptions'));
    assert.ok(!names.includes('send_mail') && !names.includes('create_event'));
    const refused = await call(client, 'send_mail', { to: ['bob@contoso.com'], subject: 'Hi', body: 'Hello' });
    assert.equal(refused.isError, true);
    assert.match(resultText(refused), /needs the app role Tools\.Write.*administrator/);
    assert.equal(remote.graph.requests.filter(request => request.path.includes('sendMail')).length, 0);
  });

  it('streams a tool\'s progress when the client asks for it (events, then the result); without asking, one JSON answer', async () => {
    remote.graph.serveGroups(4, 2);
    const client = await connect(remote.token(ALICE, { roles: ['Tools.Read'] }));
    const progress: number[] = [];
    const result = await client.callTool({ name: 'list_my_groups', arguments: { limit: 10 } }, undefined, {
      onprogress: update => { progress.push(update.progress); },
    }) as { structuredContent?: { groups: unknown[] } };
    assert.equal(result.structuredContent?.groups.length, 4);
    assert.deepEqual(progress, [2, 4], 'one progress notification per page, before the result');

    const token = remote.token(ALICE, { roles: ['Tools.Read'] });
    const asked = await remote.post(rpc('tools/call', { name: 'list_my_groups', arguments: { limit: 10 }, _meta: { progressToken: 'p-1' } }), { Authorization: `Bearer ${token}` });
    assert.equal(asked.status, 200);
    assert.match(asked.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await asked.text()).split('\n\n').filter(Boolean).map(event => JSON.parse(event.replace(/^event: message\ndata: /, '')) as { method?: string; params?: { progressToken?: string }; result?: unknown });
    assert.deepEqual(events.map(event => event.method ?? 'result'), ['notifications/progress', 'notifications/progress', 'result']);
    assert.ok(events.slice(0, 2).every(event => event.params?.progressToken === 'p-1'), 'progress carries the client\'s own token');

    const plain = await remote.post(rpc('tools/call', { name: 'list_my_groups', arguments: { limit: 10 } }), { Authorization: `Bearer ${token}` });
    assert.match(plain.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await plain.json()) as { result: { structuredContent: { groups: unknown[] } } }).result.structuredContent.groups.length, 4);
  });

  it('shows a user with both roles the write tools too', async () => {
    const client = await connect(remote.token(BOB, { roles: ['Tools.Read', 'Tools.Write'] }));
    const names = (await client.listTools()).tools.map(tool => tool.name);
    assert.ok(names.includes('send_mail') && names.includes('get_my_profile'));
  });

  it('answers 403 naming Tools.Read to a user without any app role', async () => {
    const response = await remote.post(rpc('tools/list'), { Authorization: `Bearer ${remote.token(ALICE, { roles: [] })}` });
    assert.equal(response.status, 403);
    const body = await response.json() as { error: { message: string } };
    assert.match(body.error.message, /no app role.*Tools\.Read/);
    assert.ok(remote.audit.some(line => line.event === 'auth_refused' && line.claim === 'roles' && line.oid === ALICE.oid));
  });

  it('serves two users at once, each only their own data, through one exchange per user and scope set', async () => {
    const [alice, bob] = [await connect(remote.token(ALICE)), await connect(remote.token(BOB))];
    const before = { alice: exchangesOf(remote.entra, ALICE.oid).length, bob: exchangesOf(remote.entra, BOB.oid).length };
    const calls = Array.from({ length: 12 }, (_, index): [string, Client] => (index % 2 === 0 ? ['alice', alice] : ['bob', bob]));
    const results = await Promise.all(calls.map(async ([who, client]) => ({ who, result: await call(client, 'get_my_profile') })));
    for (const { who, result } of results) {
      assert.equal(result.isError, undefined, resultText(result));
      assert.equal(result.structuredContent?.userPrincipalName, who === 'alice' ? ALICE.upn : BOB.upn);
    }
    const after = { alice: exchangesOf(remote.entra, ALICE.oid).slice(before.alice), bob: exchangesOf(remote.entra, BOB.oid).slice(before.bob) };
    assert.deepEqual(after.alice.map(exchange => exchange.scopes), [['User.Read']], 'six concurrent first calls share one exchange');
    assert.deepEqual(after.bob.map(exchange => exchange.scopes), [['User.Read']]);
    // Warm: the cache answers.
    await call(alice, 'get_my_profile');
    assert.equal(exchangesOf(remote.entra, ALICE.oid).length, before.alice + 1);
    assert.ok(remote.running.tokens.statistics.cacheHits > 0);
  });

  it('asks Entra for exactly the tool\'s declared scopes, never .default; ARM as <arm>/user_impersonation', async () => {
    const client = await connect(remote.token(ALICE));
    assert.equal((await call(client, 'list_messages', { top: 2 })).isError, undefined);
    assert.equal((await call(client, 'list_subscriptions')).isError, undefined);
    const scopes = exchangesOf(remote.entra, ALICE.oid).map(exchange => exchange.scopes);
    assert.ok(scopes.some(set => set.length === 1 && set[0] === 'Mail.Read'), JSON.stringify(scopes));
    assert.ok(scopes.some(set => set.length === 1 && set[0] === `${remote.graph.endpoint}/user_impersonation`), JSON.stringify(scopes));
    assert.ok(scopes.flat().every(scope => !scope.endsWith('.default')));
  });

  it('never sends the caller\'s own token to Graph or ARM: the fake Graph refuses a passed-through token', async () => {
    const incoming = remote.token(ALICE);
    const client = await connect(incoming);
    assert.equal((await call(client, 'get_my_profile')).isError, undefined);
    assert.ok(remote.graph.requests.every(request => request.authorization !== `Bearer ${incoming}`));
    assert.equal(remote.entra.verifyResourceToken(incoming, GRAPH_RESOURCE), undefined, 'a passed-through token would fail');
  });

  it('auth_status names the caller and the permissions granted to them so far', async () => {
    const client = await connect(remote.token(BOB));
    await call(client, 'get_my_profile');
    const status = await call(client, 'auth_status');
    assert.equal(status.structuredContent?.account, BOB.upn);
    assert.equal(status.structuredContent?.tenantId, TENANT_ID);
    assert.ok((status.structuredContent?.grantedScopes as string[]).includes('User.Read'));
    assert.ok(!(status.structuredContent?.grantedScopes as string[]).includes('Mail.Read'), 'Alice\'s grants are not Bob\'s');
  });

  it('writes an audit line per tool call with oid, tid, the tool and its outcome', async () => {
    const client = await connect(remote.token(ALICE));
    await call(client, 'get_my_profile');
    const line = remote.audit.filter(entry => entry.event === 'mcp_request' && entry.tool === 'get_my_profile').at(-1) as Record<string, unknown>;
    assert.equal(line.oid, ALICE.oid);
    assert.equal(line.tid, TENANT_ID);
    assert.equal(line.upn, ALICE.upn);
    assert.equal(line.method, 'tools/call');
    assert.equal(line.outcome, 'ok');
    assert.equal(line.status, 200);
    assert.equal(typeof line.latencyMs, 'number');
    assert.match(String(line.requestId), /^[0-9a-f-]{36}$/);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
  });
});

describe('remote server: consent, rate limit and roles configuration', function () {
  this.timeout(30_000);
  let remote: RemoteHarness | undefined;
  afterEach(async () => {
    await remote?.stop();
    remote = undefined;
  });

  it('turns a missing consent (AADSTS65001) into a tool error with this app\'s admin-consent URL', async () => {
    remote = await startRemoteHarness({ app: { consentedScopes: ['User.Read'] } });
    const client = await remote.connect(remote.token(ALICE));
    const result = await call(client, 'list_messages', { top: 1 });
    assert.equal(result.isError, true);
    assert.ok(resultText(result).includes(`${remote.entra.authorityHost}/${TENANT_ID}/adminconsent?client_id=${SERVER_CLIENT_ID}`), resultText(result));
    await client.close();
  });

  it('limits requests per user (not per address) with 429 and Retry-After', async () => {
    remote = await startRemoteHarness({ env: { ENTRA_MCP_RATE_LIMIT: '3' } });
    const alice = remote.token(ALICE);
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await remote.post(rpc('tools/list'), { Authorization: `Bearer ${alice}` })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await remote.post(rpc('tools/list'), { Authorization: `Bearer ${alice}` });
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal((await remote.post(rpc('tools/list'), { Authorization: `Bearer ${remote.token(BOB)}` })).status, 200, 'Bob has his own budget');
  });

  it('sends nothing to Entra or Graph for a call over the limit while the fleet\'s Redis is slow to say so', async function () {
    if (!redisAvailable()) { this.skip(); }
    const redisServer = await startRedis();
    const pauser = new Redis(redisServer.url);
    try {
      remote = await startRemoteHarness({
        env: { ENTRA_MCP_RATE_LIMIT: '2', ENTRA_MCP_REDIS_URL: redisServer.url, ENTRA_MCP_REDIS_PREFIX: 'rate-test:', ENTRA_MCP_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
      });
      const [alice, bob, carol] = [ALICE, BOB, CAROL].map(who => remote!.token(who));
      const profile = (token: string) => remote!.post(rpc('tools/call', { name: 'get_my_profile', arguments: {} }), { Authorization: `Bearer ${token}` });
      // Alice's token is cached (her two calls spent her budget); Bob has no token yet (two lists spent his).
      assert.deepEqual([(await profile(alice)).status, (await profile(alice)).status], [200, 200]);
      for (let i = 0; i < 2; i++) { await remote.post(rpc('tools/list'), { Authorization: `Bearer ${bob}` }); }
      const [graphBefore, exchangesBefore] = [remote.graph.requests.length, remote.entra.oboExchanges.length];

      // The limiter's Redis command now waits 400 ms: the tools run meanwhile, up to the point of sending.
      await pauser.call('CLIENT', 'PAUSE', '400', 'WRITE');
      const [overAlice, overBob, withinCarol] = await Promise.all([profile(alice), profile(bob), profile(carol)]);
      assert.deepEqual([overAlice.status, overBob.status], [429, 429]);
      assert.ok(Number(overBob.headers.get('retry-after')) >= 1);
      const carolsAnswer = await withinCarol.json() as { result?: { structuredContent?: { userPrincipalName?: string } } };
      assert.equal(withinCarol.status, 200);
      assert.equal(carolsAnswer.result?.structuredContent?.userPrincipalName, CAROL.upn);
      assert.equal(remote.graph.requests.length - graphBefore, 1, 'only Carol\'s call reached Graph');
      assert.deepEqual(remote.entra.oboExchanges.slice(exchangesBefore).map(exchange => exchange.oid), [CAROL.oid], 'only Carol was exchanged for');
    } finally {
      pauser.disconnect();
      await remote?.stop();
      remote = undefined;
      await redisServer.stop();
    }
  });

  it('maps roles to tools as ENTRA_MCP_ROLES says, and with roles not required lists everything to anyone', async () => {
    remote = await startRemoteHarness({ env: { ENTRA_MCP_ALLOW_WRITES: 'true', ENTRA_MCP_ROLES: '{"Mail.Send":["send_mail","reply_to_message"],"Profile":["get_my_*"]}' } });
    const client = await remote.connect(remote.token(ALICE, { roles: ['Profile', 'Mail.Send'] }));
    const names = (await client.listTools()).tools.map(tool => tool.name).sort();
    assert.deepEqual(names, ['get_my_manager', 'get_my_profile', 'reply_to_message', 'send_mail']);
    const refused = await call(client, 'list_messages');
    assert.match(resultText(refused), /needs the app role/);
    await client.close();
    await remote.stop();

    remote = await startRemoteHarness({ env: { ENTRA_MCP_REQUIRE_ROLES: 'false' } });
    const anyone = await remote.connect(remote.token(BOB, { roles: [] }));
    assert.ok((await anyone.listTools()).tools.some(tool => tool.name === 'list_messages'));
    await anyone.close();
  });

  it('exchanges with a certificate credential (PEM: key then certificate)', async () => {
    const pemPath = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls', 'obo-client.pem');
    const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(readFileSync(pemPath, 'utf8'))?.[0];
    remote = await startRemoteHarness({
      app: { clientSecret: undefined, certificatePem },
      env: { ENTRA_MCP_CLIENT_SECRET: '', ENTRA_MCP_CLIENT_CERTIFICATE: pemPath },
    });
    const client = await remote.connect(remote.token(ALICE));
    const result = await call(client, 'get_my_profile');
    assert.equal(result.isError, undefined, resultText(result));
    assert.equal(remote.entra.oboExchanges.at(-1)?.credential, 'certificate');
    await client.close();
  });

  it('exchanges with a managed identity as the federated credential: no secret at all', async () => {
    const app: FakeEntraApp = { clientId: SERVER_CLIENT_ID };
    const entra = new FakeEntra({ apps: [app] });
    await entra.start();
    const identity = await entra.managedIdentityEndpoint({ tenant: TENANT_ID });
    app.federatedCredential = { issuer: identity.issuer, subject: identity.principalId, audience: 'api://AzureADTokenExchange' };
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = identity.endpoint;
    process.env.IDENTITY_HEADER = identity.header;
    try {
      // A user-assigned identity of its own: msal-node caches managed identity tokens per identity
      // for the whole process, and an earlier test's token was signed by another fake Entra.
      remote = await startRemoteHarness({ entra, env: { ENTRA_MCP_CLIENT_SECRET: '', ENTRA_MCP_MANAGED_IDENTITY: randomUUID() } });
      const client = await remote.connect(remote.token(ALICE));
      const result = await call(client, 'get_my_profile');
      assert.equal(result.isError, undefined, resultText(result));
      assert.equal(entra.oboExchanges.at(-1)?.credential, 'assertion');
      await client.close();
    } finally {
      process.env.IDENTITY_ENDPOINT = saved.endpoint;
      process.env.IDENTITY_HEADER = saved.header;
      if (saved.endpoint === undefined) { delete process.env.IDENTITY_ENDPOINT; }
      if (saved.header === undefined) { delete process.env.IDENTITY_HEADER; }
      await remote?.stop();
      remote = undefined;
      await identity.stop();
      await entra.stop();
    }
  });

  it('says the server\'s own credential was refused when Entra rejects its secret', async () => {
    remote = await startRemoteHarness({ app: { clientSecret: `${SERVER_SECRET}-rotated` } });
    const client = await remote.connect(remote.token(ALICE));
    const result = await call(client, 'get_my_profile');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /server's own credential was refused by Entra ID \(AADSTS7000215\).*operator/);
    await client.close();
  });
});
