/**
 * The remote server's front door under attack: every kind of token it must refuse, DNS
 * rebinding (Host, Origin), oversized and malformed bodies, and the discovery a client such as
 * VS Code follows from a 401 to Entra ID (checked with the MCP SDK's own discovery functions).
 */
import * as assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import * as http from 'node:http';
import { Writable } from 'node:stream';
import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { ALICE, OTHER_TENANT_ID, RemoteHarness, SERVER_CLIENT_ID, TENANT_ID, rpc, startRemoteHarness } from '../helpers/remoteHarness';
import { rememberCredential } from '../helpers/leakWatch';
import { AuditLog } from '../../src/remote/audit';
import { readRemoteConfig } from '../../src/remote/config';
import { startRemoteServer } from '../../src/remote/remoteServer';

describe('remote server: authentication', function () {
  this.timeout(30_000);
  let remote: RemoteHarness;

  before(async () => {
    remote = await startRemoteHarness({ tuning: { jwksCooldownMs: 300 } });
  });
  after(async () => remote?.stop());

  const listTools = (token: string | undefined, headers: Record<string, string> = {}) =>
    remote.post(rpc('tools/list'), { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers });

  /** Asserts a refusal: status, RFC 6750 error in the challenge, and a message containing `says`. */
  async function assertRefused(response: Response, status: number, error: string | undefined, says: RegExp): Promise<void> {
    const body = await response.json() as { error?: string; error_description?: string; error_message?: string };
    assert.equal(response.status, status, JSON.stringify(body));
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
    assert.ok(challenge.includes(`scope="api://${SERVER_CLIENT_ID}/access_as_user"`), challenge);
    if (error) {
      assert.ok(challenge.includes(`error="${error}"`), challenge);
    }
    assert.match(body.error_description ?? '', says);
  }

  it('answers 401 without a token, and the challenge leads the SDK\'s discovery to Entra ID', async () => {
    const response = await listTools(undefined);
    await assertRefused(response, 401, undefined, /Sign in/);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] as string;
    const metadata = await discoverOAuthProtectedResourceMetadata(remote.url, { resourceMetadataUrl: new URL(metadataUrl) });
    assert.equal(metadata.resource, remote.url);
    assert.deepEqual(metadata.authorization_servers, [`${remote.entra.authorityHost}/${TENANT_ID}/v2.0`]);
    assert.deepEqual(metadata.scopes_supported, [`api://${SERVER_CLIENT_ID}/access_as_user`]);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    // The root form serves the same document (clients that strip the path look there).
    const root = await (await fetch(new URL('/.well-known/oauth-protected-resource', remote.url))).json();
    assert.deepEqual(root, metadata);
    const entraMetadata = await discoverAuthorizationServerMetadata(metadata.authorization_servers![0]);
    assert.equal(entraMetadata?.issuer, `${remote.entra.authorityHost}/${TENANT_ID}/v2.0`);
    assert.match(String(entraMetadata?.token_endpoint), /\/oauth2\/v2\.0\/token$/);
  });

  it('accepts a valid v2 token for its own API (both audience forms)', async () => {
    for (const audience of [SERVER_CLIENT_ID, `api://${SERVER_CLIENT_ID}`]) {
      const response = await listTools(remote.token(ALICE, { audience }));
      assert.equal(response.status, 200, audience);
      const { result } = await response.json() as { result: { tools: unknown[] } };
      assert.ok(result.tools.length > 0);
    }
  });

  const refusals: Array<[string, () => string, number, string, RegExp]> = [
    ['a v1.0 token, naming requestedAccessTokenVersion', () => remote.token(ALICE, { ver: '1.0' }), 401, 'invalid_token', /requestedAccessTokenVersion/],
    ['an app-only token, saying a signed-in user is needed', () => remote.token(ALICE, { appOnly: true }), 403, 'insufficient_scope', /app-only.*signed-in user/],
    ['a token without the access_as_user scope', () => remote.token(ALICE, { scp: 'User.Read' }), 403, 'insufficient_scope', /lacks the scope access_as_user/],
    ['an unsigned token (alg none)', () => remote.token(ALICE, { alg: 'none' }), 401, 'invalid_token', /unsigned/],
    ['an HMAC-signed token', () => remote.token(ALICE, { alg: 'HS256' }), 401, 'invalid_token', /HS256.*refused/],
    ['a token of a foreign tenant', () => remote.token({ ...ALICE, tid: OTHER_TENANT_ID }), 401, 'invalid_token', new RegExp(`tenant ${OTHER_TENANT_ID} .*ENTRA_MCP_ALLOWED_TENANTS`)],
    ['a token for another audience (Graph)', () => remote.token(ALICE, { audience: 'https://graph.microsoft.com' }), 401, 'invalid_token', /another audience/],
    ['an expired token (beyond the 5 minute skew)', () => remote.token(ALICE, { expiresInSeconds: -301 }), 401, 'invalid_token', /expired/],
    ['a token not valid yet (beyond the skew)', () => remote.token(ALICE, { notBeforeOffsetSeconds: 600 }), 401, 'invalid_token', /nbf/],
    ['a token whose issuer is not the tenant\'s v2 issuer', () => remote.token(ALICE, { issuer: 'https://evil.example/3f2a6c1e-8b4d-4e7a-9c5f-1d2e3f4a5b6c/v2.0' }), 401, 'invalid_token', /iss/],
    ['a token naming a key the tenant does not publish', () => remote.token(ALICE, { kid: 'not-a-published-kid' }), 401, 'invalid_token', /key this tenant does not publish/],
    ['a token with a tampered payload', () => tamper(remote.token(ALICE)), 401, 'invalid_token', /signature/],
    ['a token signed by a key of our own choosing', () => selfSigned(remote.token(ALICE)), 401, 'invalid_token', /signature|key/],
    ['a bearer value that is not a JWT', () => 'not-a-jwt', 401, 'invalid_token', /not a JWT/],
    ['a proof-of-possession token (cnf) presented as a bearer token', () => remote.token(ALICE, { extraClaims: { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } } }), 401, 'invalid_token', /bound to a key.*cnf.*bearer/],
  ];
  for (const [what, make, status, error, says] of refusals) {
    it(`refuses ${what}`, async () => {
      await assertRefused(await listTools(make()), status, error, says);
    });
  }

  it('accepts a token that expired less than the tolerated 5 minutes of clock skew ago', async () => {
    assert.equal((await listTools(remote.token(ALICE, { expiresInSeconds: -120 }))).status, 200);
  });

  it('refuses a non-Bearer Authorization header', async () => {
    const response = await listTools(undefined, { Authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' });
    await assertRefused(response, 401, 'invalid_request', /not a Bearer token/);
  });

  it('picks up a rotated signing key by re-fetching the JWKS, but rate-limits re-fetches for unknown key ids', async () => {
    const before = remote.entra.jwksFetches;
    remote.entra.rotateKeys();
    await new Promise(resolve => setTimeout(resolve, 350));
    assert.equal((await listTools(remote.token(ALICE))).status, 200, 'a token signed with the new key');
    assert.equal(remote.entra.jwksFetches, before + 1);
    const flood = await Promise.all(Array.from({ length: 20 }, () => listTools(remote.token(ALICE, { kid: `unknown-${Math.random()}` }))));
    assert.ok(flood.every(response => response.status === 401));
    assert.ok(remote.entra.jwksFetches <= before + 2, `re-fetched ${remote.entra.jwksFetches - before} times for 20 unknown kids`);
  });

  it('refuses a request from a foreign web origin (DNS rebinding) and accepts its own origin', async () => {
    const refused = await listTools(remote.token(ALICE), { Origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    const own = await listTools(remote.token(ALICE), { Origin: new URL(remote.url).origin });
    assert.equal(own.status, 200);
  });

  it('refuses a request whose Host is not its own with 421', async () => {
    const response = await fetchWithHost(remote.url, 'rebound.example:80', remote.token(ALICE));
    assert.equal(response.status, 421);
    const lines = remote.audit.filter(line => line.event === 'auth_refused' && line.claim === 'host');
    assert.ok(lines.length > 0);
  });

  it('bounds the body: 413 when too large, 415 when not JSON, 400 when malformed', async () => {
    const token = remote.token(ALICE);
    const huge = JSON.stringify(rpc('tools/call', { name: 'get_my_profile', arguments: { padding: 'x'.repeat(1_100_000) } }));
    assert.equal((await remote.post(huge, { Authorization: `Bearer ${token}` })).status, 413);
    assert.equal((await remote.post('{}', { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' })).status, 415);
    assert.equal((await remote.post('{not json', { Authorization: `Bearer ${token}` })).status, 400);
  });

  it('is stateless: tools/list needs no initialize, and no session id is issued', async () => {
    const response = await listTools(remote.token(ALICE));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('mcp-session-id'), null);
    const init = await remote.post(rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } }),
      { Authorization: `Bearer ${remote.token(ALICE)}` });
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('mcp-session-id'), null);
  });

  it('serves only POST at /mcp', async () => {
    const response = await fetch(remote.url, { headers: { Authorization: `Bearer ${remote.token(ALICE)}`, Accept: 'text/event-stream' } });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
  });

  it('health and readiness answer without a token and reveal nothing', async () => {
    const health = await fetch(new URL('/healthz', remote.url));
    const ready = await fetch(new URL('/readyz', remote.url));
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
  });

  it('writes a request line for every request to /mcp, refused ones included', async () => {
    const requestId = `audit-${Date.now()}`;
    await listTools(undefined, { 'X-Request-Id': requestId });
    const lines = remote.audit.filter(entry => entry.requestId === requestId);
    assert.deepEqual(lines.map(entry => [entry.event, entry.status]), [['auth_refused', 401], ['mcp_request', 401]]);
    // An unauthenticated body is never read, so its method is unknown; the caller is too.
    assert.equal(lines[1].oid, undefined);
  });

  it('writes one refusal line per failed authentication, with the status and the claim that failed, and no token', async () => {
    const token = remote.token(ALICE, { ver: '1.0' });
    await listTools(token);
    const line = remote.audit.filter(entry => entry.event === 'auth_refused').at(-1) as Record<string, unknown>;
    assert.equal(line.status, 401);
    assert.equal(line.claim, 'ver');
    assert.ok(!JSON.stringify(line).includes(token.split('.')[1]));
  });
});

describe('remote server: before its signing keys are loaded', function () {
  this.timeout(20_000);

  it('answers 503 with Retry-After on /mcp and /readyz, while /healthz is 200', async () => {
    const config = readRemoteConfig({
      ENTRA_MCP_TENANT_ID: TENANT_ID, ENTRA_MCP_CLIENT_ID: SERVER_CLIENT_ID, ENTRA_MCP_CLIENT_SECRET: 'unused-secret-value-123',
      // Nothing listens here: discovery keeps failing.
      ENTRA_MCP_AUTHORITY_HOST: 'https://127.0.0.1:9', ENTRA_MCP_GRAPH_ENDPOINT: 'https://127.0.0.1:9', ENTRA_MCP_ARM_ENDPOINT: 'https://127.0.0.1:9',
      ENTRA_MCP_PORT: '0',
    });
    const running = await startRemoteServer(config, new AuditLog(new Writable({ write: (_chunk, _encoding, done) => done() })), 'test');
    try {
      const base = `http://127.0.0.1:${running.port}`;
      const mcp = await fetch(`${base}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer x.y.z' }, body: '{}' });
      assert.equal(mcp.status, 503);
      assert.equal(mcp.headers.get('retry-after'), '5');
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await running.close(100);
    }
  });
});

function tamper(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  claims.roles = ['Tools.Read', 'Tools.Write'];
  const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  rememberCredential(forged);
  return forged;
}

/** The same claims and kid, signed with a key the attacker made. */
function selfSigned(token: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const [header, payload] = token.split('.');
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })));
  const forged = `${header}.${payload}.${signature.toString('base64url')}`;
  rememberCredential(forged);
  return forged;
}

/** fetch() will not set Host; node:http will. */
async function fetchWithHost(url: string, host: string, token: string): Promise<{ status: number }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { Host: host, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` } }, response => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.on('error', reject);
    request.end(JSON.stringify(rpc('tools/list')));
  });
}
