/**
 * The bundled server (dist/server.js) the way clients nobody here wrote use it: raw lines on
 * stdin, stdin closed right after the last request, no tool selected.
 */
import * as assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { ENV } from '../../src/shared/env';
import { Harness, startBroker } from '../helpers/brokerHarness';
import { waitFor } from '../helpers/waitFor';

const DIST = join(__dirname, '..', '..', '..', 'dist');

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw-client', version: '1' } } };
const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' };
const CALL_AUTH_STATUS = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'auth_status', arguments: {} } };
const lines = (...messages: unknown[]) => messages.map(message => `${JSON.stringify(message)}\n`).join('');

interface Exited { answers: Array<{ id?: unknown; result?: { isError?: boolean; structuredContent?: { signedIn?: boolean } } }>; code: number | null; afterEofMs: number }

describe('start-up: real clients against the bundled server', () => {
  let harness: Harness;
  let scratch: string | undefined;
  beforeEach(async () => { harness = await startBroker(); });
  afterEach(async () => {
    await harness.broker.stop();
    if (scratch) { rmSync(scratch, { recursive: true, force: true }); scratch = undefined; }
  });

  function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
    return { PATH: process.env.PATH ?? '', [ENV.broker]: harness.path, [ENV.brokerSecret]: harness.secret, [ENV.graphEndpoint]: 'https://graph.invalid', [ENV.armEndpoint]: 'https://arm.invalid', ...extra };
  }

  function startServer(script = join(DIST, 'server.js'), env = serverEnv()): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, [script], { env, stdio: 'pipe' });
  }

  function withoutManifest(): string {
    scratch = mkdtempSync(join(tmpdir(), 'entra-mcp-'));
    for (const file of ['server.js', 'server-main.js']) { copyFileSync(join(DIST, file), join(scratch, file)); }
    return join(scratch, 'server.js');
  }

  /** Collects every answer until the process exits (killed after `limitMs`: a hang fails the test). */
  function untilExit(child: ChildProcessWithoutNullStreams, limitMs = 10_000): Promise<Exited & { eof: () => void }> {
    let output = '';
    let eofAt = 0;
    child.stdout.on('data', chunk => { output += String(chunk); });
    child.stderr.resume();
    const eof = () => { eofAt = Date.now(); child.stdin.end(); };
    return new Promise(resolve => {
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.on('exit', code => {
        clearTimeout(timer);
        const answers = output.split('\n').filter(Boolean).map(line => JSON.parse(line) as Exited['answers'][number]);
        resolve({ answers, code, afterEofMs: Date.now() - eofAt, eof });
      });
    });
  }

  function answerTo(exited: Exited, id: number) {
    return exited.answers.find(answer => answer.id === id);
  }

  it('answers a tool call written just before stdin closes, then exits', async () => {
    const child = startServer();
    const exited = untilExit(child);
    child.stdin.end(lines(INITIALIZE, INITIALIZED, CALL_AUTH_STATUS));
    const result = await exited;
    assert.ok(answerTo(result, 1), 'the initialize answer');
    assert.equal(answerTo(result, 3)?.result?.structuredContent?.signedIn, true, `the tool call's answer: ${JSON.stringify(result.answers)}`);
    assert.equal(result.code, 0);
  });

  it('answers a tool call written just before stdin closes with the SDK alone (no manifest)', async () => {
    const child = startServer(withoutManifest());
    const exited = untilExit(child);
    child.stdin.end(lines(INITIALIZE, INITIALIZED, CALL_AUTH_STATUS));
    const result = await exited;
    assert.equal(answerTo(result, 3)?.result?.structuredContent?.signedIn, true, JSON.stringify(result.answers));
    assert.equal(result.code, 0);
  });

  it('waits a bounded time for an answer after EOF: a broker that never answers does not keep it running', async () => {
    // A frozen extension host: it accepts the connection and never says a word.
    const sockets: net.Socket[] = [];
    const frozen = net.createServer(socket => { sockets.push(socket); });
    const path = join(mkdtempSync(join(tmpdir(), 'entra-mcp-')), 'frozen.sock');
    await new Promise<void>(resolve => frozen.listen(path, resolve));
    try {
      const child = startServer(join(DIST, 'server.js'), { ...serverEnv(), [ENV.broker]: path });
      const exited = untilExit(child, 15_000);
      const started = Date.now();
      child.stdin.end(lines(INITIALIZE, INITIALIZED, CALL_AUTH_STATUS));
      const result = await exited;
      assert.equal(result.code, 0);
      const waited = Date.now() - started;
      assert.ok(waited >= 4_000 && waited < 8_000, `exited ${waited} ms after EOF`);
      assert.ok(sockets.length > 0, 'the server did connect to the broker');
    } finally {
      for (const socket of sockets) { socket.destroy(); }
      await new Promise(resolve => frozen.close(resolve));
      rmSync(dirname(path), { recursive: true, force: true });
    }
  });

  it('answers a tool call sent after the hand-over when stdin closes right after it, then exits', async () => {
    const child = startServer();
    const exited = untilExit(child);
    child.stdin.write(lines(INITIALIZE, INITIALIZED));
    await new Promise(resolve => setTimeout(resolve, 600));
    child.stdin.end(lines(CALL_AUTH_STATUS));
    const result = await exited;
    assert.equal(answerTo(result, 3)?.result?.structuredContent?.signedIn, true, JSON.stringify(result.answers));
    assert.equal(result.code, 0);
  });

  it('exits on EOF while its broker connection is open', async () => {
    const child = startServer();
    const exited = untilExit(child);
    child.stdin.write(lines(INITIALIZE, INITIALIZED));
    // After the hand-over the server connects to the broker ahead of the first call; the broker keeps that socket open.
    await waitFor(() => harness.broker.connectionCount === 1, 'the server\'s broker connection', 5_000);
    const started = Date.now();
    child.stdin.end();
    const result = await exited;
    assert.equal(result.code, 0);
    assert.ok(Date.now() - started < 3_000, `exited ${Date.now() - started} ms after EOF`);
  });

  describe('no tool selected', () => {
    async function listTwice(script: string): Promise<void> {
      const transport = new StdioClientTransport({ command: process.execPath, args: [script], env: serverEnv({ [ENV.enabledTools]: 'no_such_tool' }), stderr: 'ignore' });
      const client = new Client({ name: 'test-client', version: '1' });
      await client.connect(transport);
      try {
        assert.ok(client.getServerCapabilities()?.tools, 'initialize advertises tools');
        assert.deepEqual((await client.listTools()).tools, [], 'the first tools/list');
        await new Promise(resolve => setTimeout(resolve, 300));
        assert.deepEqual((await client.listTools()).tools, [], 'a later tools/list, answered by the SDK');
      } finally {
        await client.close();
      }
    }

    it('lists no tools, the same way every time in one session', async () => {
      await listTwice(join(DIST, 'server.js'));
    });

    it('lists no tools with the SDK alone (no manifest)', async () => {
      await listTwice(withoutManifest());
    });
  });
});
