/**
 * Proxy mode end to end with the MCP SDK's own OAuth client (`auth()` with an
 * OAuthClientProvider): discovery → registration → consent → Entra sign-in → callback → tokens →
 * a tool as the right user; refresh without the user; rotating refresh tokens whose reuse
 * revokes the family; and every refusal the authorization server owes a client.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { CLIENT_REDIRECT, TestClientProvider, browse, cookieHeader, signIn, tokenRequest } from '../helpers/proxyClient';
import { AddressInfo } from 'node:net';
import { recordVisible, rememberCredential } from '../helpers/leakWatch';
import { startLocalHttps, stopLocalHttps } from '../helpers/localHttps';
import { ALICE, BOB, RemoteHarness, proxyEnv, resultText, startRemoteHarness } from '../helpers/remoteHarness';

describe('remote server: proxy mode (its own authorization server)', function () {
  this.timeout(30_000);
  let remote: RemoteHarness;
  let clock = Date.now();

  before(async () => {
    remote = await startRemoteHarness({ env: proxyEnv(), tuning: { now: () => clock } });
    remote.entra.addUser(ALICE, { roles: ['Tools.Read'] });
    remote.entra.addUser(BOB, { roles: ['Tools.Read'] });
    remote.entra.signInAs(ALICE);
  });
  after(async () => remote?.stop());
  beforeEach(() => { clock = Date.now(); });

  it('names itself as the authorization server and publishes RFC 8414 metadata with jwks_uri and CIMD support', async () => {
    const prm = await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', remote.url))).json() as Record<string, unknown>;
    const origin = new URL(remote.url).origin;
    assert.deepEqual(prm.authorization_servers, [origin]);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = await (await fetch(new URL(path, remote.url))).json() as Record<string, unknown>;
      assert.equal(metadata.issuer, origin);
      assert.equal(metadata.jwks_uri, `${origin}/jwks`);
      assert.equal(metadata.client_id_metadata_document_supported, true);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      for (const endpoint of ['authorize', 'token', 'register', 'revoke']) {
        assert.ok(Object.values(metadata).includes(`${origin}/${endpoint}`), endpoint);
      }
    }
    const jwks = await (await fetch(new URL('/jwks', remote.url))).json() as { keys: Array<Record<string, unknown>> };
    assert.equal(jwks.keys[0].alg, 'ES256');
    assert.equal(jwks.keys[0].d, undefined, 'no private part');
  });

  it('signs a client in end to end and serves its tools as the user who signed in', async () => {
    const provider = await signIn(remote);
    const client = new Client({ name: 'proxy-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(remote.url), { authProvider: provider }));
    const result = await client.callTool({ name: 'get_my_profile', arguments: {} }) as { structuredContent?: { userPrincipalName?: string } };
    recordVisible('proxy tool result', JSON.stringify(result));
    assert.equal(result.structuredContent?.userPrincipalName, ALICE.upn, resultText(result));
    const exchange = remote.entra.refreshGrants.at(-1);
    assert.equal(exchange?.oid, ALICE.oid);
    assert.deepEqual(exchange?.scopes, ['User.Read'], 'Graph scopes asked for when the tool first needed them');
    const atEntra = remote.entra.authorizeRequests.at(-1);
    assert.deepEqual(atEntra?.scopes.filter(scope => !['openid', 'profile', 'offline_access'].includes(scope)), [], 'sign-in asks for sign-in only');
    assert.equal(atEntra?.hasPkce, true);
    assert.equal(atEntra?.redirectUri, `${new URL(remote.url).origin}/auth/callback`);
    await client.close();
  });

  it('refreshes an expired access token without the user', async () => {
    const provider = await signIn(remote);
    const stale: OAuthTokens = { ...provider.saved as OAuthTokens, access_token: 'expired.access.token' };
    provider.saved = stale;
    const client = new Client({ name: 'proxy-refresh', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(remote.url), { authProvider: provider }));
    assert.notEqual(provider.saved?.access_token, stale.access_token, 'a new access token from the refresh token');
    assert.notEqual(provider.saved?.refresh_token, stale.refresh_token, 'the refresh token rotated');
    assert.ok((await client.listTools()).tools.length > 0);
    await client.close();
  });

  it('revokes the whole family when a used refresh token is presented again', async () => {
    const provider = await signIn(remote);
    const clientId = provider.client?.client_id as string;
    const first = provider.saved?.refresh_token as string;
    const rotated = await tokenRequest(remote, { grant_type: 'refresh_token', refresh_token: first, client_id: clientId });
    assert.equal(rotated.status, 200);
    rememberCredential(rotated.body.refresh_token);
    rememberCredential(rotated.body.access_token);
    const replay = await tokenRequest(remote, { grant_type: 'refresh_token', refresh_token: first, client_id: clientId });
    assert.deepEqual([replay.status, replay.body.error], [400, 'invalid_grant']);
    const newest = await tokenRequest(remote, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token, client_id: clientId });
    assert.deepEqual([newest.status, newest.body.error], [400, 'invalid_grant'], 'the thief\'s or the client\'s newer token is dead too');
  });

  it('refuses a wrong PKCE verifier, a replayed code and an expired code', async () => {
    const provider = new TestClientProvider();
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    const clientId = provider.client?.client_id as string;
    const codeFor = async () => (await browse(provider.authorizationUrl as URL)).searchParams.get('code') as string;
    const redeem = (code: string, verifier = provider.verifier) => tokenRequest(remote, {
      grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT, client_id: clientId, resource: remote.url,
    });
    const code = await codeFor();
    assert.deepEqual(pick(await redeem(code, randomBytes(32).toString('base64url'))), [400, 'invalid_grant'], 'wrong verifier');
    const good = await redeem(code);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    rememberCredential(good.body.access_token);
    rememberCredential(good.body.refresh_token);
    assert.deepEqual(pick(await redeem(code)), [400, 'invalid_grant'], 'replayed');
    const late = await codeFor();
    clock += 61_000;
    assert.deepEqual(pick(await redeem(late)), [400, 'invalid_grant'], 'older than 60 s');
  });

  it('refuses a foreign resource, a redirect URI that was not registered, and an unregistered client', async () => {
    const provider = new TestClientProvider();
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    const url = provider.authorizationUrl as URL;
    const foreign = new URL(url);
    foreign.searchParams.set('resource', 'https://other.example/mcp');
    const refusedTarget = await fetch(foreign, { redirect: 'manual' });
    assert.equal(new URL(refusedTarget.headers.get('location') as string).searchParams.get('error'), 'invalid_target');
    const otherRedirect = new URL(url);
    otherRedirect.searchParams.set('redirect_uri', 'https://attacker.example/callback');
    const refusedRedirect = await fetch(otherRedirect, { redirect: 'manual' });
    assert.equal(refusedRedirect.status, 400, 'never redirects to an unregistered URI');
    assert.equal(refusedRedirect.headers.get('location'), null);
    const unknown = new URL(url);
    unknown.searchParams.set('client_id', 'not-registered');
    assert.equal((await fetch(unknown, { redirect: 'manual' })).status, 400);
    const token = await tokenRequest(remote, { grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43), client_id: 'not-registered' });
    assert.equal(token.body.error, 'invalid_client');
  });

  it('registers only redirect URIs the operator allows', async () => {
    const response = await fetch(new URL('/register', remote.url), {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_name: 'Evil', redirect_uris: ['http://attacker.example/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json() as { error: string }).error, 'invalid_client_metadata');
  });

  it('skips the consent page for a client the user already approved in this browser', async () => {
    const provider = await signIn(remote, new TestClientProvider('Approved before'));
    provider.saved = undefined;
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    const again = await fetch(provider.authorizationUrl as URL, { redirect: 'manual', headers: { Cookie: cookieHeader() } });
    assert.equal(again.status, 302, 'straight to Entra ID');
    assert.ok((again.headers.get('location') as string).startsWith(remote.entra.authorityHost));
    const fresh = await fetch(provider.authorizationUrl as URL, { redirect: 'manual' });
    assert.equal(fresh.status, 200, 'another browser (no cookie) sees the consent page');
  });

  it('does not let another account ride on the consent this browser remembered for someone else', async () => {
    const provider = await signIn(remote, new TestClientProvider('Shared browser'));
    provider.saved = undefined;
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    remote.entra.signInAs(BOB);
    try {
      let next = new URL((await fetch(provider.authorizationUrl as URL, { redirect: 'manual', headers: { Cookie: cookieHeader() } })).headers.get('location') as string);
      next = new URL((await fetch(next, { redirect: 'manual' })).headers.get('location') as string);
      assert.equal(next.pathname, '/auth/callback');
      const callback = await fetch(next, { redirect: 'manual', headers: { Cookie: cookieHeader() } });
      assert.equal(callback.status, 403);
      assert.match(await callback.text(), /another account than the one that approved/);
    } finally {
      remote.entra.signInAs(ALICE);
    }
  });

  it('revokes a refresh token (RFC 7009): its family ends and the consent is withdrawn', async () => {
    const provider = await signIn(remote, new TestClientProvider('Revocable'));
    const clientId = provider.client?.client_id as string;
    const revoked = await fetch(new URL('/revoke', remote.url), {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: provider.saved?.refresh_token as string, token_type_hint: 'refresh_token', client_id: clientId }),
    });
    assert.equal(revoked.status, 200);
    const refresh = await tokenRequest(remote, { grant_type: 'refresh_token', refresh_token: provider.saved?.refresh_token as string, client_id: clientId });
    assert.equal(refresh.body.error, 'invalid_grant');
    provider.saved = undefined;
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    const again = await fetch(provider.authorizationUrl as URL, { redirect: 'manual', headers: { Cookie: cookieHeader() } });
    assert.equal(again.status, 200, 'the consent page is shown again');
  });

  it('sends a denial back to the client, with no code', async () => {
    const provider = new TestClientProvider('Denied client');
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    const denied = await browse(provider.authorizationUrl as URL, 'deny');
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('code'), null);
  });

  it('keeps no token, code or secret in the clear in its store', async () => {
    const provider = await signIn(remote, new TestClientProvider('Store check'));
    const dump = remote.running.authStore?.dump() ?? [];
    assert.ok(dump.length > 5);
    recordVisible('auth store', dump.join('\n'));
    const secrets = [provider.saved?.access_token, provider.saved?.refresh_token].filter((value): value is string => Boolean(value));
    for (const entry of dump) {
      assert.ok(!/eyJ[\w-]+\.[\w-]+/.test(entry), 'no JWT in the store');
      for (const secret of secrets) { assert.ok(!entry.includes(secret)); }
    }
  });

  it('serves MCP Inspector\'s CLI with a token obtained this way', async () => {
    const provider = await signIn(remote, new TestClientProvider('Inspector'));
    const cli = require.resolve('@modelcontextprotocol/inspector-cli/build/index.js');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
      const child = spawn(process.execPath, [cli, remote.url, '--method', 'tools/list', '--header', `Authorization: Bearer ${provider.saved?.access_token}`],
        { cwd: dirname(cli), env: { PATH: process.env.PATH ?? '' } });
      let out = '';
      let err = '';
      child.stdout.on('data', chunk => { out += chunk; });
      child.stderr.on('data', chunk => { err += chunk; recordVisible('inspector stderr', String(chunk)); });
      child.once('exit', exitCode => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    recordVisible('inspector stdout', stdout);
    assert.equal(code, 0, stderr);
    assert.ok((JSON.parse(stdout) as { tools: Array<{ name: string }> }).tools.some(tool => tool.name === 'get_my_profile'));
  });

  it('accepts a client named by its client ID metadata document (CIMD), and refuses a document that does not name itself', async () => {
    const documents = await startLocalHttps((req, res) => {
      const url = `https://127.0.0.1:${(documents.address() as AddressInfo).port}${req.url}`;
      const document = { client_id: req.url === '/wrong.json' ? 'https://elsewhere.example/client.json' : url, client_name: 'Metadata Client', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(document));
    });
    try {
      const base = `https://127.0.0.1:${(documents.address() as AddressInfo).port}`;
      const authorize = (clientId: string) => {
        const url = new URL('/authorize', remote.url);
        url.search = new URLSearchParams({ client_id: clientId, redirect_uri: CLIENT_REDIRECT, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's', resource: remote.url }).toString();
        return fetch(url, { redirect: 'manual' });
      };
      const page = await authorize(`${base}/client.json`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Metadata Client/);
      assert.equal((await authorize(`${base}/wrong.json`)).status, 400);
    } finally {
      await stopLocalHttps(documents);
    }
  });

  it('takes roles from the Entra id token: a user without one is refused at the MCP endpoint, naming Tools.Read', async () => {
    const carol = { oid: 'ca201000-0000-4000-8000-000000000003', tid: ALICE.tid, upn: 'carol@contoso.com', name: 'Carol' };
    remote.entra.addUser(carol, { roles: [] });
    remote.entra.signInAs(carol);
    try {
      const provider = await signIn(remote, new TestClientProvider('No role'));
      const response = await fetch(remote.url, {
        method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${provider.saved?.access_token}` },
      });
      assert.equal(response.status, 403);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /Tools\.Read/);
    } finally {
      remote.entra.signInAs(ALICE);
    }
  });

  it('refuses an Entra token at the MCP endpoint: in proxy mode only its own tokens are accepted', async () => {
    const response = await fetch(remote.url, {
      method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${remote.token(ALICE)}` },
    });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('says to sign in again when the user\'s Entra session is dead, and refuses to refresh it', async () => {
    remote.entra.signInAs(BOB);
    const provider = await signIn(remote, new TestClientProvider('Revoked'));
    remote.entra.signInAs(ALICE);
    remote.entra.revokeSignIns(BOB.oid);
    const client = new Client({ name: 'proxy-revoked', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(remote.url), { authProvider: provider }));
    const result = await client.callTool({ name: 'list_messages', arguments: {} });
    recordVisible('proxy revoked result', JSON.stringify(result));
    assert.equal(result.isError, true);
    assert.match(resultText(result), /Sign in to this server again/);
    await client.close();
    const refresh = await tokenRequest(remote, { grant_type: 'refresh_token', refresh_token: provider.saved?.refresh_token as string, client_id: provider.client?.client_id as string });
    assert.equal(refresh.body.error, 'invalid_grant');
  });
});

function pick(answer: { status: number; body: Record<string, string> }): [number, string] {
  return [answer.status, answer.body.error];
}
