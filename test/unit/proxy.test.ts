/**
 * Graph through a corporate proxy, with a real one: Debian's tinyproxy on loopback in front of
 * the fake Graph. The tools' own Graph client, the proxy named the way the extension names it
 * (HTTPS_PROXY and NO_PROXY, from VS Code's http.proxy and http.noProxy). What the proxy sees
 * is checked from its own log: a CONNECT to the host, never the token.
 */
import * as assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import { createGraphClient } from '../../src/server/graph/graphClient';
import { toGraphToolError } from '../../src/server/graph/graphErrors';
import { ENV } from '../../src/shared/env';
import { proxyEnv, proxyFingerprint } from '../../src/shared/proxyEnv';
import { FakeGraph } from '../helpers/fakeGraph';
import { freePort } from '../helpers/loadBalancer';
import { TINYPROXY_UNAVAILABLE_MESSAGE, Tinyproxy, startTinyproxy, tinyproxyAvailable } from '../helpers/tinyproxy';
import { makeFakeToken } from '../helpers/tokens';
import { rememberCredential } from '../helpers/leakWatch';
import { ALICE, SERVER_SECRET, TENANT_ID, startRemoteHarness } from '../helpers/remoteHarness';
import { tlsEnv } from '../helpers/localHttps';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { RemoteTokenSource, TokenSource } from '../../src/server/brokerClient';
import { createBridge } from '../../src/server/bridge/bridgeServer';

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy', ENV.proxyAuthorization];
// The leak scan checks that the proxy's password shows up in no output, nor the header carrying it.
rememberCredential('pr0xy-pa55');
const PROXY_AUTHORIZATION = Buffer.from('megan:pr0xy-pa55').toString('base64');
rememberCredential(PROXY_AUTHORIZATION);

describe('Graph through a proxy (tinyproxy)', function () {
  this.timeout(30_000);
  let graph: FakeGraph;
  let proxy: Tinyproxy | undefined;
  let saved: Record<string, string | undefined>;
  const token = makeFakeToken({ exp: Math.floor(Date.now() / 1000) + 3_600, scp: 'User.Read', upn: 'MeganB@contoso.com', name: 'Megan Bowen', tid: 't', oid: 'o-1' });
  const tokens: TokenSource = {
    getToken: async () => ({ accessToken: token, expiresOn: Date.now() + 3_600_000, account: 'MeganB@contoso.com', tenantId: 't' }),
    status: async () => ({ signedIn: true, tenant: 'organizations', cloud: 'Azure', grantedScopes: ['User.Read'] }),
  };
  const client = (): Client => createGraphClient({ endpoint: graph.endpoint, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'get_my_profile', ['User.Read']);
  const useEnv = (env: Record<string, string>) => {
    for (const name of PROXY_VARIABLES) { delete process.env[name]; }
    Object.assign(process.env, env);
  };
  const failureOf = (work: Promise<unknown>) => work.then(
    () => assert.fail('the request should have failed'),
    error => toGraphToolError(error, 'reading your profile', ['User.Read']));

  before(function () {
    if (!tinyproxyAvailable()) {
      console.log(`      ${TINYPROXY_UNAVAILABLE_MESSAGE}`);
      this.skip();
    }
  });

  beforeEach(async () => {
    saved = Object.fromEntries(PROXY_VARIABLES.map(name => [name, process.env[name]]));
    graph = new FakeGraph();
    await graph.start();
  });

  afterEach(async () => {
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) { delete process.env[name]; } else { process.env[name] = saved[name]; }
    }
    await proxy?.stop();
    proxy = undefined;
    await graph.stop();
  });

  it('tunnels Graph requests through the proxy: it sees the host, never the token, and one tunnel serves many requests', async () => {
    proxy = await startTinyproxy();
    useEnv(proxyEnv({ proxy: proxy.url, noProxy: [] }));
    const me = await client().api('/me').get() as { userPrincipalName: string };
    assert.equal(me.userPrincipalName, 'MeganB@contoso.com');
    await client().api('/me').get();
    const graphHost = new URL(graph.endpoint).host;
    assert.deepEqual(proxy.connects(), [graphHost], 'one kept-alive tunnel for both requests');
    assert.equal(graph.requests.length, 2);
    assert.equal(graph.requests[0].authorization, `Bearer ${token}`);
    assert.ok(!proxy.log().includes(token) && !/Bearer|authorization/i.test(proxy.log()), 'the proxy never saw the token');
  });

  it('goes direct to a host in NO_PROXY', async () => {
    proxy = await startTinyproxy();
    useEnv(proxyEnv({ proxy: proxy.url, noProxy: ['127.0.0.1'] }));
    await client().api('/me').get();
    assert.deepEqual(proxy.connects(), []);
    assert.equal(graph.requests.length, 1);
  });

  it('a proxy that asks for credentials: a clear error naming it and what to set, never the password; then works with them', async () => {
    proxy = await startTinyproxy({ user: 'megan', password: 'pr0xy-pa55' });
    useEnv({ HTTPS_PROXY: proxy.address });
    const refused = await failureOf(client().api('/me').get());
    assert.equal(refused.code, 'NetworkError', refused.message);
    assert.match(refused.message, new RegExp(`the proxy ${proxy.address.replace(/[.:/]/g, '\\$&')} refused the connection to .* \\(HTTP 407\\): it asks for credentials.*http\\.proxy`));
    useEnv({ HTTPS_PROXY: proxy.url.replace('pr0xy-pa55', 'wrong-pa55') });
    const wrong = await failureOf(client().api('/me').get());
    // tinyproxy answers wrong credentials with 401, missing ones with 407.
    assert.match(wrong.message, /HTTP 40[17]\): it did not accept the credentials in VS Code's http\.proxy setting/);
    assert.ok(!wrong.message.includes('wrong-pa55') && !wrong.message.includes('megan'), wrong.message);
    assert.equal(graph.requests.length, 0, 'nothing reached Graph while the proxy refused');
    useEnv({ HTTPS_PROXY: proxy.url });
    assert.equal((await client().api('/me').get() as { userPrincipalName: string }).userPrincipalName, 'MeganB@contoso.com');
  });

  it('takes the proxy\'s credentials from http.proxyAuthorization: on the CONNECT only, never to Graph, never shown', async () => {
    proxy = await startTinyproxy({ user: 'megan', password: 'pr0xy-pa55' });
    const settings = { proxy: proxy.address, noProxy: [] };
    useEnv(proxyEnv({ ...settings, authorization: `Basic ${Buffer.from('megan:wrong-pa55').toString('base64')}` }));
    const wrong = await failureOf(client().api('/me').get());
    assert.match(wrong.message, /HTTP 40[17]\): it did not accept VS Code's http\.proxyAuthorization setting/);
    assert.ok(!wrong.message.includes(Buffer.from('megan:wrong-pa55').toString('base64')), wrong.message);
    assert.equal(graph.requests.length, 0);

    useEnv(proxyEnv({ ...settings, authorization: `Basic ${PROXY_AUTHORIZATION}` }));
    assert.equal((await client().api('/me').get() as { userPrincipalName: string }).userPrincipalName, 'MeganB@contoso.com');
    assert.deepEqual(proxy.connects(), [new URL(graph.endpoint).host, new URL(graph.endpoint).host], 'the refused tunnel, then the accepted one');
    assert.equal(graph.requests.length, 1);
    assert.equal(graph.requests[0].headers['proxy-authorization'], undefined, 'the proxy\'s credentials stay with the proxy');
    assert.ok(!JSON.stringify(graph.requests[0].headers).includes(PROXY_AUTHORIZATION));

    useEnv(proxyEnv({ ...settings, authorization: `Basic ${PROXY_AUTHORIZATION}\r\nX-Injected: 1` }));
    const broken = await failureOf(client().api('/me').get());
    assert.match(broken.message, /http\.proxyAuthorization setting \(ENTRA_MCP_PROXY_AUTHORIZATION\) holds a line break/);
    assert.ok(!broken.message.includes(PROXY_AUTHORIZATION), broken.message);
    assert.equal(graph.requests.length, 1, 'nothing went out with a broken setting');
  });

  it('a proxy that is not there is named in the error, without its credentials', async () => {
    const closed = await freePort();
    useEnv({ HTTPS_PROXY: `http://megan:pr0xy-pa55@127.0.0.1:${closed}` });
    const error = await failureOf(client().api('/me').get());
    assert.equal(error.code, 'NetworkError', error.message);
    assert.match(error.message, new RegExp(`ECONNREFUSED.*through the proxy http://127\\.0\\.0\\.1:${closed}`));
    assert.ok(!error.message.includes('pr0xy-pa55'), error.message);
  });

  it('a proxy setting that is not an http(s) URL fails clearly and never goes direct', async () => {
    useEnv({ HTTPS_PROXY: 'socks5://megan:pr0xy-pa55@proxy.contoso.com:1080' });
    const error = await failureOf(client().api('/me').get());
    assert.equal(error.code, 'NetworkError', error.message);
    assert.match(error.message, /http\.proxy, or HTTPS_PROXY\) is not an http:\/\/ or https:\/\/ URL/);
    assert.ok(!error.message.includes('pr0xy-pa55'), error.message);
    assert.equal(graph.requests.length, 0);
  });
  it('the remote server\'s own calls go through it too: Entra discovery, keys and On-Behalf-Of, then Graph', async () => {
    proxy = await startTinyproxy();
    useEnv({ HTTPS_PROXY: proxy.url });
    const remote = await startRemoteHarness();
    try {
      const assertion = remote.token(ALICE);
      const client = await remote.connect(assertion);
      const result = await client.callTool({ name: 'get_my_profile', arguments: {} }) as { structuredContent?: { userPrincipalName?: string } };
      await client.close();
      assert.equal(result.structuredContent?.userPrincipalName, ALICE.upn);
      const [entraHost, graphHost] = [new URL(remote.entra.authorityHost).host, new URL(remote.graph.endpoint).host];
      assert.deepEqual([...new Set(proxy.connects())].sort(), [entraHost, graphHost].sort());
      assert.ok(remote.entra.oboExchanges.length >= 1);
      for (const secret of [assertion, SERVER_SECRET, 'Bearer']) {
        assert.ok(!proxy.log().includes(secret), 'the proxy saw only tunnels, no token or secret');
      }
    } finally {
      await remote.stop();
    }
  });

  it('the bridge reaches a remote MCP server through it, the token inside the tunnel', async () => {
    const remote = await startRemoteHarness({ env: tlsEnv() });
    proxy = await startTinyproxy();
    useEnv({ HTTPS_PROXY: proxy.url });
    const issued: string[] = [];
    const remoteTokens: RemoteTokenSource = {
      getRemoteToken: async () => {
        issued.push(remote.token(ALICE));
        return { accessToken: issued.at(-1) as string, expiresOn: Date.now() + 3_600_000, account: ALICE.upn, tenantId: TENANT_ID };
      },
      reportOutcome: async () => undefined,
    };
    const bridge = createBridge({ config: { remoteUrl: remote.url, name: 'contoso_tools' }, tokens: remoteTokens, version: '1.0.0' });
    try {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await bridge.server.connect(serverSide);
      const client = new McpClient({ name: 'vscode-test', version: '1.0.0' });
      await client.connect(clientSide);
      const result = await client.callTool({ name: 'get_my_profile', arguments: {} }) as { structuredContent?: { userPrincipalName?: string } };
      assert.equal(result.structuredContent?.userPrincipalName, ALICE.upn);
      await client.close();
      assert.ok(proxy.connects().includes(new URL(remote.url).host), proxy.connects().join(', '));
      assert.ok(issued.length > 0 && issued.every(token => !proxy?.log().includes(token)), 'the proxy never saw a token');
    } finally {
      await bridge.close();
      await remote.stop();
    }
  });
});

describe('VS Code proxy settings as the server\'s environment', () => {
  it('sets both spellings of HTTPS_PROXY and NO_PROXY, and nothing for settings left empty', () => {
    assert.deepEqual(proxyEnv({ proxy: ' http://proxy.contoso.com:8080 ', noProxy: ['.contoso.com', ' ', 'localhost'] }), {
      HTTPS_PROXY: 'http://proxy.contoso.com:8080', https_proxy: 'http://proxy.contoso.com:8080',
      NO_PROXY: '.contoso.com,localhost', no_proxy: '.contoso.com,localhost',
    });
    assert.deepEqual(proxyEnv({ proxy: '', noProxy: [] }), {});
    assert.deepEqual(proxyEnv({ proxy: '', noProxy: [], authorization: ' Basic bWVnYW46cGFzcw== ' }), { [ENV.proxyAuthorization]: 'Basic bWVnYW46cGFzcw==' });
  });

  it('fingerprints the settings so a change restarts the server, without revealing them', () => {
    const first = proxyFingerprint({ proxy: 'http://megan:one@proxy.contoso.com:8080', noProxy: [] });
    const second = proxyFingerprint({ proxy: 'http://megan:two@proxy.contoso.com:8080', noProxy: [] });
    assert.match(first, /^[0-9a-f]{16}$/);
    assert.notEqual(first, second, 'a new password restarts the server');
    assert.notEqual(first, proxyFingerprint({ proxy: 'http://megan:one@proxy.contoso.com:8080', noProxy: ['.contoso.com'] }));
    assert.equal(proxyFingerprint({ proxy: '', noProxy: [] }), '');
    const withHeader = proxyFingerprint({ proxy: 'http://proxy.contoso.com:8080', noProxy: [], authorization: 'Basic bWVnYW46cGFzcw==' });
    assert.notEqual(withHeader, proxyFingerprint({ proxy: 'http://proxy.contoso.com:8080', noProxy: [], authorization: 'Basic bWVnYW46b3RoZXI=' }), 'a new http.proxyAuthorization restarts the server');
    assert.notEqual(withHeader, proxyFingerprint({ proxy: 'http://proxy.contoso.com:8080', noProxy: [] }));
    assert.ok(!withHeader.includes('bWVnYW4'), withHeader);
  });
});
