/**
 * The built remote server (dist/remote.js) as an operator runs it: `--help`, start-up refusals
 * that name the variable, HTTPS with clients of several SDK versions, and SIGTERM letting a
 * request in flight finish. Everything it prints is leak-scanned.
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { dirname, join } from 'node:path';
import { REMOTE_SETTINGS } from '../../src/remote/config';
import { FakeEntra } from '../helpers/fakeEntra';
import { FakeGraph } from '../helpers/fakeGraph';
import { recordVisible } from '../helpers/leakWatch';
import { ALICE, SERVER_CLIENT_ID, SERVER_SECRET, oboOnlyGraph, remoteEnv, rpc } from '../helpers/remoteHarness';
import { waitFor } from '../helpers/waitFor';

const REMOTE = join(__dirname, '..', '..', '..', 'dist', 'remote.js');
const INSPECTOR_CLI = require.resolve('@modelcontextprotocol/inspector-cli/build/index.js');
const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls');

interface Ran { code: number | null; stdout: string; stderr: string }

/** Runs dist/remote.js to its end with exactly `env` (plus PATH), recording its output for the leak scan. */
function run(args: string[], env: Record<string, string>): Promise<Ran> {
  return runNode(REMOTE, args, env);
}

function runNode(script: string, args: string[], env: Record<string, string> = { NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.pem') }): Promise<Ran> {
  return new Promise(resolve => {
    // The Inspector CLI finds its own package.json relative to the working directory.
    const child = spawn(process.execPath, [script, ...args], { cwd: dirname(script), env: { PATH: process.env.PATH ?? '', ...env } });
    const out = collect(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', code => {
      clearTimeout(timer);
      resolve({ code, ...out() });
    });
  });
}

function collect(child: ChildProcess): () => { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', chunk => { stdout += chunk; recordVisible('remote stdout', String(chunk)); });
  child.stderr?.on('data', chunk => { stderr += chunk; recordVisible('remote stderr', String(chunk)); });
  return () => ({ stdout, stderr });
}

const TEST_SIGNING_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const minimal = { ENTRA_MCP_TENANT_ID: '3f2a6c1e-8b4d-4e7a-9c5f-1d2e3f4a5b6c', ENTRA_MCP_CLIENT_ID: SERVER_CLIENT_ID, ENTRA_MCP_CLIENT_SECRET: SERVER_SECRET, ENTRA_MCP_PORT: '0' };

describe('remote server: the built dist/remote.js', function () {
  this.timeout(60_000);

  it('--help lists every setting', async () => {
    const { code, stdout } = await run(['--help'], {});
    assert.equal(code, 0);
    for (const { name } of REMOTE_SETTINGS) {
      assert.ok(stdout.includes(name), `--help names ${name}`);
    }
  });

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ['no tenant', { ENTRA_MCP_TENANT_ID: '' }, /ENTRA_MCP_TENANT_ID is not set/],
    ['a tenant that is a domain', { ENTRA_MCP_TENANT_ID: 'contoso.onmicrosoft.com' }, /ENTRA_MCP_TENANT_ID must be a GUID/],
    ['no client id', { ENTRA_MCP_CLIENT_ID: '' }, /ENTRA_MCP_CLIENT_ID is not set/],
    ['no credential', { ENTRA_MCP_CLIENT_SECRET: '' }, /ENTRA_MCP_MANAGED_IDENTITY \(recommended/],
    ['two credentials', { ENTRA_MCP_MANAGED_IDENTITY: 'system' }, /exactly one credential/],
    ['plain HTTP off loopback', { ENTRA_MCP_HOST: '0.0.0.0' }, /not a loopback address.*ENTRA_MCP_TLS_CERT.*ENTRA_MCP_TRUST_PROXY=true/],
    ['a public URL missing off loopback', { ENTRA_MCP_HOST: '0.0.0.0', ENTRA_MCP_TRUST_PROXY: 'true' }, /ENTRA_MCP_PUBLIC_URL is required/],
    ['an http authority', { ENTRA_MCP_AUTHORITY_HOST: 'http://login.example' }, /ENTRA_MCP_AUTHORITY_HOST must be an https:\/\/ URL/],
    ['an authority with a tenant path', { ENTRA_MCP_AUTHORITY_HOST: 'https://login.microsoftonline.com/contoso' }, /ENTRA_MCP_AUTHORITY_HOST must be a host only/],
    ['an unknown cloud', { ENTRA_MCP_CLOUD: 'AzureGermanCloud' }, /ENTRA_MCP_CLOUD must be/],
    ['a malformed rate limit', { ENTRA_MCP_RATE_LIMIT: 'lots' }, /ENTRA_MCP_RATE_LIMIT must be a whole number/],
    ['a malformed role map', { ENTRA_MCP_ROLES: '{"Tools.Read":"all"}' }, /ENTRA_MCP_ROLES: role "Tools.Read" must map to a list/],
    ['a TLS certificate without key', { ENTRA_MCP_TLS_CERT: join(TLS_DIR, 'localhost.pem') }, /Set both ENTRA_MCP_TLS_CERT and ENTRA_MCP_TLS_KEY/],
    ['an unreadable certificate credential', { ENTRA_MCP_CLIENT_SECRET: '', ENTRA_MCP_CLIENT_CERTIFICATE: join(TLS_DIR, 'missing.pem') }, /ENTRA_MCP_CLIENT_CERTIFICATE: cannot read/],
    ['a certificate file without its key', { ENTRA_MCP_CLIENT_SECRET: '', ENTRA_MCP_CLIENT_CERTIFICATE: join(TLS_DIR, 'localhost.pem') }, /PKCS#8 private key/],
    ['a public URL that is not the MCP endpoint', { ENTRA_MCP_PUBLIC_URL: 'https://mcp.contoso.com/' }, /ending in \/mcp/],
    ['an unknown auth mode', { ENTRA_MCP_AUTH_MODE: 'oauth' }, /ENTRA_MCP_AUTH_MODE must be entra or proxy/],
    ['proxy mode without a signing key', { ENTRA_MCP_AUTH_MODE: 'proxy' }, /ENTRA_MCP_SIGNING_KEY is required in proxy mode: the PEM text/],
    ['proxy mode with a signing key path instead of its text', { ENTRA_MCP_AUTH_MODE: 'proxy', ENTRA_MCP_SIGNING_KEY: '/etc/keys/signing.pem' }, /the PEM text \(not a path\)/],
    ['proxy mode without an encryption key', { ENTRA_MCP_AUTH_MODE: 'proxy', ENTRA_MCP_SIGNING_KEY: TEST_SIGNING_KEY }, /ENTRA_MCP_TOKEN_ENCRYPTION_KEY is required/],
    ['proxy mode with a short encryption key', { ENTRA_MCP_AUTH_MODE: 'proxy', ENTRA_MCP_SIGNING_KEY: TEST_SIGNING_KEY, ENTRA_MCP_TOKEN_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, /base64 of 32 random bytes/],
  ];
  for (const [what, change, says] of refusals) {
    it(`refuses to start with ${what}, naming the variable`, async () => {
      const { code, stderr, stdout } = await run([], { ...minimal, ...change });
      assert.equal(code, 2, stdout + stderr);
      assert.match(stderr, says);
      assert.ok(!stderr.includes(SERVER_SECRET));
    });
  }

  describe('serving HTTPS', () => {
    let entra: FakeEntra;
    let graph: FakeGraph;
    let child: ChildProcess;
    let output: () => { stdout: string; stderr: string };
    let base: string;

    before(async () => {
      entra = new FakeEntra({ apps: [{ clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET }] });
      await entra.start();
      graph = oboOnlyGraph(entra);
      await graph.start();
      child = spawn(process.execPath, [REMOTE], {
        env: {
          PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.pem'),
          ...remoteEnv(entra, graph, { ENTRA_MCP_TLS_CERT: join(TLS_DIR, 'localhost.pem'), ENTRA_MCP_TLS_KEY: join(TLS_DIR, 'localhost-key.pem') }),
        },
      });
      output = collect(child);
      await waitFor(() => /"port":(\d+)/.test(output().stdout), 'the server listening', 10_000);
      base = `https://127.0.0.1:${/"port":(\d+)/.exec(output().stdout)?.[1]}`;
      await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 'the server ready', 10_000);
    });
    after(async () => {
      if (child.exitCode === null) { child.kill('SIGKILL'); }
      await graph.stop();
      await entra.stop();
    });

    const clients = [
      { label: 'mcp-sdk 1.12.3', client: 'mcp-sdk-1.12/client/index.js', http: 'mcp-sdk-1.12/client/streamableHttp.js' },
      { label: 'mcp-sdk 1.32.2', client: '@modelcontextprotocol/sdk/client/index.js', http: '@modelcontextprotocol/sdk/client/streamableHttp.js' },
      { label: 'v2 client 2.4.0', client: '@modelcontextprotocol/client', http: '@modelcontextprotocol/client' },
    ];
    for (const pkg of clients) {
      it(`serves ${pkg.label} over HTTPS: tools listed and called as the signed-in user`, async () => {
        const load = (specifier: string): Promise<any> => import(specifier);
        const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([load(pkg.client), load(pkg.http)]);
        const token = entra.issueAccessToken({ user: ALICE, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });
        const client = new Client({ name: `remote-${pkg.label}`, version: '1' }, { capabilities: {} });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
        const { tools } = await client.listTools();
        assert.ok(tools.some((tool: { name: string }) => tool.name === 'get_my_profile'));
        const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
        recordVisible(`remote ${pkg.label}`, JSON.stringify(result));
        assert.equal(result.structuredContent?.userPrincipalName, ALICE.upn, JSON.stringify(result));
        await client.close();
      });
    }

    it('serves MCP Inspector\'s CLI: it lists the tools and calls one as the signed-in user', async () => {
      const token = entra.issueAccessToken({ user: ALICE, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });
      const inspect = (...args: string[]) => runNode(INSPECTOR_CLI, [`${base}/mcp`, '--header', `Authorization: Bearer ${token}`, ...args]);
      const listed = await inspect('--method', 'tools/list');
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok((JSON.parse(listed.stdout) as { tools: Array<{ name: string }> }).tools.some(tool => tool.name === 'list_messages'));
      const called = await inspect('--method', 'tools/call', '--tool-name', 'get_my_profile');
      assert.equal(called.code, 0, called.stderr);
      assert.equal((JSON.parse(called.stdout) as { structuredContent: { userPrincipalName: string } }).structuredContent.userPrincipalName, ALICE.upn);
    });

    it('refuses plain HTTP on its HTTPS port', async () => {
      const port = new URL(base).port;
      const answer = await fetch(`http://127.0.0.1:${port}/healthz`).then(response => response.status, () => 'refused');
      assert.notEqual(answer, 200);
    });

    it('writes its audit as single-line JSON', () => {
      const lines = output().stdout.split('\n').filter(Boolean);
      assert.ok(lines.length > 3);
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        assert.equal(typeof parsed.event, 'string');
      }
      assert.ok(lines.some(line => line.includes('"event":"mcp_request"') && line.includes('"tool":"get_my_profile"')));
    });

    it('on SIGTERM lets a request in flight finish, then exits by itself', async () => {
      graph.route('GET /v1.0/me', (_request, claims) => ({ status: 200, delayMs: 1_500, body: { id: claims.oid, displayName: claims.name, userPrincipalName: claims.upn, mail: claims.upn } }));
      const token = entra.issueAccessToken({ user: ALICE, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'] });
      const seen = graph.requests.length;
      const inFlight = fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` },
        body: JSON.stringify(rpc('tools/call', { name: 'get_my_profile', arguments: {} })),
      });
      await waitFor(() => graph.requests.slice(seen).some(request => request.path === '/v1.0/me'), 'the call reaching Graph', 5_000);
      const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
      child.kill('SIGTERM');
      const response = await inFlight;
      const body = await response.json() as { result?: { structuredContent?: { userPrincipalName?: string } } };
      assert.equal(response.status, 200);
      assert.equal(body.result?.structuredContent?.userPrincipalName, ALICE.upn);
      assert.equal(await exited, 0);
      assert.ok(output().stdout.includes('"event":"stopping"'));
    });
  });
});
