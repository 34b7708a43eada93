/**
 * Starts the remote server in-process against a local fake Entra ID and fake Graph, as a
 * deployment would run it: configuration from environment variables, MSAL talking to the
 * token endpoint for real, Graph accepting only tokens that came out of On-Behalf-Of.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AuditLog } from '../../src/remote/audit';
import { readRemoteConfig } from '../../src/remote/config';
import { RemoteTuning, RunningRemoteServer, startRemoteServer } from '../../src/remote/remoteServer';
import { FakeEntra, FakeEntraApp, FakeEntraUser, GRAPH_RESOURCE, IssueOptions } from './fakeEntra';
import { FakeGraph } from './fakeGraph';
import { recordVisible, rememberCredential } from './leakWatch';

export const TENANT_ID = '3f2a6c1e-8b4d-4e7a-9c5f-1d2e3f4a5b6c';
export const OTHER_TENANT_ID = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
export const SERVER_CLIENT_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';
export const SERVER_SECRET = 'remote-test-secret-5f1c9b7e2a4d8c6f0e3b';
rememberCredential(SERVER_SECRET);

export const ALICE: FakeEntraUser = { oid: 'a11ce000-0000-4000-8000-000000000001', tid: TENANT_ID, upn: 'alice@contoso.com', name: 'Alice Smith' };
export const BOB: FakeEntraUser = { oid: 'b0b00000-0000-4000-8000-000000000002', tid: TENANT_ID, upn: 'bob@contoso.com', name: 'Bob Jones' };

export interface RemoteHarness {
  readonly entra: FakeEntra;
  /** The server's app registration at the fake Entra (tests may change it). */
  readonly app: FakeEntraApp;
  readonly graph: FakeGraph;
  readonly running: RunningRemoteServer;
  /** The MCP endpoint. */
  readonly url: string;
  /** Every audit line so far, parsed. */
  readonly audit: Array<Record<string, unknown>>;
  /** An access token for this server's API, as Entra issues it to a client. */
  token(user: FakeEntraUser, options?: Partial<IssueOptions>): string;
  /** An SDK client connected with `token`. */
  connect(token: string, clientName?: string): Promise<Client>;
  /** A raw JSON-RPC POST to /mcp. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly app?: Partial<FakeEntraApp>;
  /** Started fakes to reuse (the process tests share them). */
  readonly entra?: FakeEntra;
  readonly tuning?: RemoteTuning;
}

/** The settings of proxy mode: a fresh signing key and encryption key. */
export function proxyEnv(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const encryptionKey = randomBytes(32).toString('base64');
  rememberCredential(encryptionKey);
  return {
    ENTRA_MCP_AUTH_MODE: 'proxy',
    ENTRA_MCP_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ENTRA_MCP_TOKEN_ENCRYPTION_KEY: encryptionKey,
  };
}

/** The environment a deployment would set, pointing at the fakes. */
export function remoteEnv(entra: FakeEntra, graph: FakeGraph, env: Record<string, string> = {}): Record<string, string> {
  return {
    ENTRA_MCP_TENANT_ID: TENANT_ID,
    ENTRA_MCP_CLIENT_ID: SERVER_CLIENT_ID,
    ENTRA_MCP_CLIENT_SECRET: SERVER_SECRET,
    ENTRA_MCP_AUTHORITY_HOST: entra.authorityHost,
    ENTRA_MCP_GRAPH_ENDPOINT: graph.endpoint,
    ENTRA_MCP_ARM_ENDPOINT: graph.endpoint,
    ENTRA_MCP_PORT: '0',
    ...env,
  };
}

/** A fake Graph that accepts only tokens the fake Entra issued through On-Behalf-Of, for Graph or for ARM. */
export function oboOnlyGraph(entra: FakeEntra): FakeGraph {
  const graph: FakeGraph = new FakeGraph({
    authenticate: token => entra.verifyResourceToken(token, GRAPH_RESOURCE) ?? entra.verifyResourceToken(token, graph.endpoint),
  });
  return graph;
}

export async function startRemoteHarness(options: HarnessOptions = {}): Promise<RemoteHarness> {
  const ownEntra = !options.entra;
  const app: FakeEntraApp = { clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET, ...options.app };
  const entra = options.entra ?? new FakeEntra({ apps: [app] });
  if (ownEntra) { await entra.start(); }
  const graph = oboOnlyGraph(entra);
  await graph.start();
  const audit: Array<Record<string, unknown>> = [];
  const config = readRemoteConfig(remoteEnv(entra, graph, options.env));
  const running = await startRemoteServer(config, new AuditLog(auditSink(audit)), 'test', options.tuning);
  await running.ready;
  const url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${running.port}/mcp`;
  // The app registration's redirect URI for proxy mode's sign-in, known once the port is.
  app.redirectUris = [`${new URL(url).origin}/auth/callback`];
  return {
    entra, app, graph, running, url, audit,
    token: (user, issue = {}) => entra.issueAccessToken({ user, audience: SERVER_CLIENT_ID, scp: 'access_as_user', roles: ['Tools.Read'], ...issue }),
    connect: async (token, clientName = 'remote-test') => {
      const client = new Client({ name: clientName, version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      return client;
    },
    post: (body, headers = {}) => fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    stop: async () => {
      await running.close(1_000);
      await graph.stop();
      if (ownEntra) { await entra.stop(); }
    },
  };
}

/** Audit lines go to the test (parsed) and to the leak scan (as written). */
function auditSink(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        recordVisible('remote audit', line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}

/** A JSON-RPC request body. */
export function rpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method, params };
}

/** The first text of a tool result. */
export function resultText(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.find(item => item.type === 'text')?.text ?? '';
}
