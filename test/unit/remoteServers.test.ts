/**
 * The extension's side of remote servers: what it makes of a server's protected resource
 * metadata (against our real remote server in both modes, and against servers that lie), and
 * which tokens it will hand the bridge: only for a configured URL, only for the scope that
 * server's own metadata advertised, never one of Graph or Resource Manager.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { Server } from 'node:https';
import { AuditEvent } from '../../src/extension/audit';
import { BrokerError } from '../../src/extension/auth/brokerError';
import { Discovery, discoverRemoteServer } from '../../src/extension/remote/discovery';
import { RemoteServers, VSCODE_CLIENT_ID, snakeNames } from '../../src/extension/remote/remoteServers';
import { GetTokenResult } from '../../src/shared/protocol';
import { RemoteHarness, SERVER_CLIENT_ID, TENANT_ID, proxyEnv, startRemoteHarness } from '../helpers/remoteHarness';
import { startLocalHttps, stopLocalHttps, tlsEnv } from '../helpers/localHttps';

const LOGIN = 'https://login.microsoftonline.com';

/** A server that publishes whatever metadata a test gives it, at the path-inserted well-known URL. */
class MetadataStub {
  metadata: unknown = {};
  status = 200;
  redirectTo: string | undefined;
  /** Served only at the origin's own well-known URL (RFC 9728's fallback). */
  rootOnly = false;
  hang = false;
  readonly paths: string[] = [];
  private server: Server | undefined;

  get url(): string {
    return `https://127.0.0.1:${(this.server?.address() as { port: number }).port}/mcp`;
  }

  async start(): Promise<void> {
    this.server = await startLocalHttps((req, res) => this.handle(req, res));
  }

  stop(): Promise<void> {
    return stopLocalHttps(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.paths.push(req.url ?? '');
    if (this.hang) { return; }
    if (this.redirectTo) {
      res.writeHead(302, { Location: this.redirectTo }).end();
      return;
    }
    const wanted = this.rootOnly ? '/.well-known/oauth-protected-resource' : '/.well-known/oauth-protected-resource/mcp';
    if (req.url !== wanted) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(this.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(this.metadata));
  }
}

function entraMetadata(url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { resource: url, authorization_servers: [`${LOGIN}/${TENANT_ID}/v2.0`], scopes_supported: [`api://${SERVER_CLIENT_ID}/access_as_user`], ...overrides };
}

function failureOf(discovery: Discovery): { reason: string; message: string } {
  assert.equal(discovery.kind, 'failed', JSON.stringify(discovery));
  return discovery as { reason: string; message: string };
}

describe('remote servers: discovery from protected resource metadata', () => {
  const stub = new MetadataStub();
  before(() => stub.start());
  after(() => stub.stop());
  beforeEach(() => {
    Object.assign(stub, { status: 200, redirectTo: undefined, rootOnly: false, hang: false });
    stub.paths.length = 0;
  });

  const discover = (url = stub.url, timeoutMs?: number) => discoverRemoteServer({ label: 'Contoso tools', url }, { loginEndpoint: LOGIN, timeoutMs });

  it('an Entra-protected server: its tenant and its own API scope', async () => {
    stub.metadata = entraMetadata(stub.url, { resource_name: 'Contoso tools' });
    assert.deepEqual(await discover(), {
      kind: 'entra', scope: `api://${SERVER_CLIENT_ID}/access_as_user`, tenant: TENANT_ID,
      authorizationServer: `${LOGIN}/${TENANT_ID}/v2.0`, resourceName: 'Contoso tools',
    });
    assert.deepEqual(stub.paths, ['/.well-known/oauth-protected-resource/mcp'], 'the path-inserted URL first (RFC 9728 §3.1)');
  });

  it('falls back to the origin\'s well-known URL', async () => {
    stub.rootOnly = true;
    stub.metadata = entraMetadata(stub.url);
    assert.equal((await discover()).kind, 'entra');
    assert.deepEqual(stub.paths, ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
  });

  it('refuses metadata that names another resource (RFC 9728 §3.3)', async () => {
    stub.metadata = entraMetadata('https://mcp.contoso.com/mcp');
    assert.match(failureOf(await discover()).message, /metadata for another resource/);
  });

  it('never asks for a token of Graph or Resource Manager, however the server phrases it', async () => {
    const unsafe = ['User.Read', 'https://graph.microsoft.com/Mail.Read', 'https://graph.microsoft.com/.default', 'HTTPS://MANAGEMENT.AZURE.COM/user_impersonation',
      'api://00000003-0000-0000-c000-000000000000/Mail.Read', '00000003-0000-0000-c000-000000000000/.default', 'https://microsoftgraph.chinacloudapi.cn/User.Read',
      'https://evil.example/access_as_user'];
    for (const scope of unsafe) {
      stub.metadata = entraMetadata(stub.url, { scopes_supported: [scope] });
      const failure = failureOf(await discover());
      assert.equal(failure.reason, 'unsafe-scope', scope);
      assert.match(failure.message, /never sent to a remote server/);
    }
  });

  it('picks the server\'s own scope when an unsafe one is listed first', async () => {
    stub.metadata = entraMetadata(stub.url, { scopes_supported: ['User.Read', `api://${SERVER_CLIENT_ID}/access_as_user`] });
    assert.equal((await discover() as { scope: string }).scope, `api://${SERVER_CLIENT_ID}/access_as_user`);
  });

  it('accepts an https Application ID URI on the server\'s own domain only', async () => {
    stub.metadata = entraMetadata(stub.url, { scopes_supported: ['https://127.0.0.1/mcp-api/access_as_user'] });
    assert.equal((await discover()).kind, 'entra');
  });

  it('a server naming an authorization server that is not the signed-in cloud\'s Entra is not used', async () => {
    for (const server of ['https://login.microsoftonline.us/' + TENANT_ID + '/v2.0', 'https://login.microsoftonline.com.evil.example/' + TENANT_ID + '/v2.0',
      'https://accounts.example.com', `${LOGIN}/${TENANT_ID}/oauth2/v2.0/authorize`]) {
      stub.metadata = entraMetadata(stub.url, { authorization_servers: [server] });
      const failure = failureOf(await discover());
      assert.equal(failure.reason, 'not-entra', server);
      assert.match(failure.message, /not an Entra ID protected server of your cloud/);
    }
  });

  it('a server that is its own authorization server is proxy mode', async () => {
    stub.metadata = { resource: stub.url, authorization_servers: [new URL(stub.url).origin] };
    assert.deepEqual(await discover(), { kind: 'proxy', authorizationServer: new URL(stub.url).origin });
  });

  it('no scope advertised: nothing to ask for', async () => {
    stub.metadata = entraMetadata(stub.url, { scopes_supported: [] });
    assert.match(failureOf(await discover()).message, /advertises no scope/);
  });

  it('does not follow a redirect to someone else\'s metadata', async () => {
    stub.redirectTo = 'https://127.0.0.1:1/.well-known/oauth-protected-resource';
    const failure = failureOf(await discover());
    assert.equal(failure.reason, 'unreachable');
  });

  it('unreachable, hanging or not an OAuth server: says what to check', async () => {
    assert.match(failureOf(await discover('https://127.0.0.1:1/mcp')).message, /is not reachable.*entraMcp\.remoteServers/);
    stub.hang = true;
    assert.equal(failureOf(await discover(stub.url, 300)).reason, 'unreachable');
    stub.hang = false;
    stub.status = 404;
    assert.equal(failureOf(await discover()).reason, 'unreachable');
  });

  it('only https URLs, without credentials or query', async () => {
    for (const url of ['http://mcp.contoso.com/mcp', 'https://user:pw@mcp.contoso.com/mcp', 'https://mcp.contoso.com/mcp?x=1', 'not a url']) {
      assert.equal(failureOf(await discover(url)).reason, 'invalid', url);
    }
  });
});

describe('remote servers: our own remote server, discovered for real', () => {
  let entraMode: RemoteHarness;
  let proxyMode: RemoteHarness;
  before(async () => {
    entraMode = await startRemoteHarness({ env: tlsEnv() });
    proxyMode = await startRemoteHarness({ env: { ...proxyEnv(), ...tlsEnv() }, entra: entraMode.entra });
  });
  after(async () => {
    await proxyMode.stop();
    await entraMode.stop();
  });

  it('Entra mode: the server\'s tenant and api:// scope', async () => {
    const found = await discoverRemoteServer({ label: 'x', url: entraMode.url }, { loginEndpoint: entraMode.entra.authorityHost });
    assert.deepEqual(found, {
      kind: 'entra', scope: `api://${SERVER_CLIENT_ID}/access_as_user`, tenant: TENANT_ID,
      authorizationServer: entraMode.entra.issuerOf(TENANT_ID), resourceName: 'Entra MCP tools',
    });
  });

  it('proxy mode: left to VS Code\'s own OAuth', async () => {
    const found = await discoverRemoteServer({ label: 'x', url: proxyMode.url }, { loginEndpoint: entraMode.entra.authorityHost });
    assert.equal(found.kind, 'proxy', JSON.stringify(found));
  });
});

describe('remote servers: the tokens the broker hands the bridge', () => {
  const stub = new MetadataStub();
  let requests: Array<{ tool: string; scopes: string[]; wwwAuthenticate?: string; forceRefresh?: boolean }>;
  let audit: AuditEvent[];
  let failWith: Error | undefined;
  let tenant: string;
  before(() => stub.start());
  after(() => stub.stop());
  beforeEach(() => {
    requests = [];
    audit = [];
    failWith = undefined;
    tenant = 'organizations';
    stub.metadata = entraMetadata(stub.url);
  });

  function registry(entries = [{ label: 'Contoso tools', url: stub.url }]): RemoteServers {
    return new RemoteServers({
      entries: () => entries,
      loginEndpoint: () => LOGIN,
      tenant: () => tenant,
      audit: event => audit.push(event),
      getToken: async params => {
        requests.push(params);
        if (failWith) { throw failWith; }
        return { accessToken: 'remote-token', expiresOn: Date.now() + 3600_000, account: 'megan@contoso.com', tenantId: TENANT_ID } satisfies GetTokenResult;
      },
    });
  }

  it('asks the token service for exactly the discovered scope, passing a refresh or a challenge on', async () => {
    const remotes = registry();
    await remotes.refresh();
    await remotes.getRemoteToken({ server: stub.url });
    await remotes.getRemoteToken({ server: stub.url, forceRefresh: true });
    await remotes.getRemoteToken({ server: stub.url, wwwAuthenticate: 'Bearer error="insufficient_claims", claims="e30="' });
    assert.deepEqual(requests, [
      { tool: 'contoso_tools', scopes: [`api://${SERVER_CLIENT_ID}/access_as_user`] },
      { tool: 'contoso_tools', scopes: [`api://${SERVER_CLIENT_ID}/access_as_user`], forceRefresh: true },
      { tool: 'contoso_tools', scopes: [`api://${SERVER_CLIENT_ID}/access_as_user`], wwwAuthenticate: 'Bearer error="insufficient_claims", claims="e30="' },
    ]);
    assert.ok(audit.some(event => event.event === 'remote-discovery' && event.outcome === 'ok'));
  });

  it('refuses a URL the user did not configure, even one on the same host', async () => {
    const remotes = registry();
    await remotes.refresh();
    for (const server of [stub.url.replace('/mcp', '/other'), 'https://attacker.example/mcp', `${stub.url}/`]) {
      await assert.rejects(remotes.getRemoteToken({ server }), (error: BrokerError) => error.reason === 'ScopeNotAllowed' && /not one of your remote servers/.test(error.message));
    }
    assert.equal(requests.length, 0);
  });

  it('a server whose metadata asks for a Graph scope gets no token at all', async () => {
    stub.metadata = entraMetadata(stub.url, { scopes_supported: ['https://graph.microsoft.com/Mail.Read'] });
    const remotes = registry();
    await remotes.refresh();
    await assert.rejects(remotes.getRemoteToken({ server: stub.url }), /never sent to a remote server/);
    assert.equal(requests.length, 0);
  });

  it('not pre-authorized: names VS Code\'s client id and where the administrator adds it', async () => {
    failWith = new BrokerError('TokenUnavailable', 'Could not get a token: AADSTS65001: The user or administrator has not consented to use the application.');
    const remotes = registry();
    await remotes.refresh();
    await assert.rejects(remotes.getRemoteToken({ server: stub.url }), (error: Error) =>
      error.message.includes(VSCODE_CLIENT_ID) && /pre-authorized client application/.test(error.message) && /Authorized client applications, for access_as_user/.test(error.message));
  });

  it('other failures (signed out) pass through unchanged', async () => {
    failWith = new BrokerError('NotSignedIn', 'You signed out.');
    const remotes = registry();
    await remotes.refresh();
    await assert.rejects(remotes.getRemoteToken({ server: stub.url }), (error: BrokerError) => error.reason === 'NotSignedIn' && error.message === 'You signed out.');
  });

  it('a pinned tenant other than the server\'s: says to select it', async () => {
    tenant = '11111111-2222-4333-8444-555555555555';
    const remotes = registry();
    await remotes.refresh();
    await assert.rejects(remotes.getRemoteToken({ server: stub.url }), /belongs to the tenant .* Select Tenant/);
    assert.equal(requests.length, 0);
  });

  it('records the bridge\'s outcomes for Show Status, and rediscovers on refresh', async () => {
    const remotes = registry();
    let discovered = 0;
    remotes.onDidDiscover(() => discovered++);
    await remotes.refresh();
    remotes.recordOutcome({ server: stub.url, ok: false, message: 'no app role' });
    assert.deepEqual(remotes.list()[0].lastOutcome?.message, 'no app role');
    remotes.recordOutcome({ server: 'https://unknown.example/mcp', ok: true });
    stub.metadata = { resource: stub.url, authorization_servers: [new URL(stub.url).origin] };
    await remotes.refresh();
    assert.equal(remotes.list()[0].discovery?.kind, 'proxy');
    assert.equal(discovered, 2);
  });

  it('a repeated URL is registered once; names are unique snake_case', async () => {
    const remotes = registry([{ label: 'A', url: stub.url }, { label: 'B', url: stub.url }]);
    await remotes.refresh();
    assert.equal(remotes.list().length, 1);
    assert.deepEqual(snakeNames(['Contoso tools', 'Contoso-Tools', '42 things', '!!!']), ['contoso_tools', 'contoso_tools_2', 'r_42_things', 'remote']);
  });
});
