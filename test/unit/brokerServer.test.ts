import * as assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import * as net from 'node:net';
import { dirname } from 'node:path';
import { secretsMatch } from '../../src/extension/broker/brokerServer';
import { createBrokerEndpoint } from '../../src/extension/broker/socketPath';
import { BrokerClient } from '../../src/server/brokerClient';
import { isToolError } from '../../src/server/toolError';
import { rememberCredential } from '../helpers/leakWatch';
import { Harness, exchange, frame, hello, parseFrames, startBroker, tokenRequest } from '../helpers/brokerHarness';

describe('broker protocol', () => {
  let harness: Harness;
  afterEach(async () => { await harness?.broker.stop(); });

  it('answers a token request after a valid handshake', async () => {
    harness = await startBroker();
    const { received } = await exchange(harness.path, [frame(hello(harness.secret)), frame(tokenRequest(2))], 500);
    const messages = parseFrames(received);
    assert.equal(messages.length, 2);
    assert.deepEqual((messages[0].result as { protocolVersion: number }).protocolVersion, 1);
    const token = messages[1].result as { accessToken: string; account: string };
    assert.equal(token.accessToken, harness.issued[0]);
    assert.equal(token.account, 'MeganB@contoso.com');
  });

  it('closes a connection presenting a wrong secret without answering, and audits it', async () => {
    harness = await startBroker();
    const { received, closed } = await exchange(harness.path, [frame(hello('0'.repeat(64))), frame(tokenRequest(2))]);
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.equal(harness.tokenRequests.length, 0);
    assert.ok(harness.audit.some(event => event.event === 'connection' && event.outcome === 'refused' && event.detail === 'wrong secret'));
  });

  it('refuses a secret from an earlier launch', async () => {
    harness = await startBroker();
    const oldSecret = harness.secret;
    await harness.broker.stop();
    const restarted = await harness.broker.start();
    rememberCredential(restarted.secret);
    assert.notEqual(restarted.secret, oldSecret);
    const { received, closed } = await exchange(restarted.path, [frame(hello(oldSecret)), frame(tokenRequest(2))]);
    assert.equal(received, '');
    assert.equal(closed, true);
  });

  it('closes a connection whose first message is not the handshake', async () => {
    harness = await startBroker();
    const { received, closed } = await exchange(harness.path, [frame(tokenRequest(1)), frame(hello(harness.secret, 2))]);
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.equal(harness.tokenRequests.length, 0);
    assert.ok(harness.audit.some(event => event.detail === 'first message was not a handshake'));
  });

  it('closes on a frame larger than the limit before reading it', async () => {
    harness = await startBroker();
    const announced = Buffer.from('Content-Length: 10000000\r\n\r\n{"jsonrpc":"2.0"', 'ascii');
    const { received, closed } = await exchange(harness.path, announced);
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.ok(harness.audit.some(event => /exceeds/.test(event.detail ?? '')));
  });

  it('closes on oversized data even after a valid handshake', async () => {
    harness = await startBroker({ limits: { maxFrameBytes: 4096 } });
    const big = tokenRequest(2, 'get_my_profile', ['x'.repeat(5000)]);
    const { received, closed } = await exchange(harness.path, [frame(hello(harness.secret)), frame(big)], 1500, 100);
    assert.equal(parseFrames(received).length, 1, 'only the handshake is answered');
    assert.equal(closed, true);
  });

  // Found by the fuzzer: vscode-jsonrpc queues requests by id, so a second request with the
  // handshake's id replaced it, and the library answered the parameter error itself.
  it('answers nothing when a request reuses the id of a bad handshake sent with it', async () => {
    harness = await startBroker();
    const { received, closed } = await exchange(harness.path, Buffer.concat([
      frame(hello('0'.repeat(64), 1)), frame({ jsonrpc: '2.0', id: 1, method: 'broker/getToken' }),
    ]));
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.ok(harness.audit.some(event => event.detail === 'wrong secret'));
  });

  it('holds pipelined requests until the handshake succeeded, and closes on a malformed one', async () => {
    harness = await startBroker();
    const pipelined = await exchange(harness.path, Buffer.concat([frame(hello(harness.secret)), frame(tokenRequest(2)), frame(tokenRequest(3))]), 500);
    assert.deepEqual(parseFrames(pipelined.received).map(message => message.id), [1, 2, 3]);
    const malformed = await exchange(harness.path, Buffer.concat([
      frame(hello(harness.secret)), frame({ jsonrpc: '2.0', method: '$/cancelRequest', params: [] }), frame(tokenRequest(2)),
    ]), 500);
    // The handshake's answer may or may not be flushed before the close; nothing after it is.
    assert.deepEqual(parseFrames(malformed.received).filter(message => message.id !== 1), []);
    assert.equal(malformed.closed, true);
    assert.ok(harness.audit.some(event => event.detail === 'malformed message'));
  });

  it('refuses a frame announcing two lengths, which could slip past the size limit', async () => {
    harness = await startBroker({ limits: { maxFrameBytes: 4096 } });
    const { received, closed } = await exchange(harness.path, Buffer.from('Content-Length: 1\r\nContent-Length: 999999999\r\n\r\n{', 'ascii'));
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.ok(harness.audit.some(event => /more than one Content-Length/.test(event.detail ?? '')));
  });

  it('audits a peer that leaves before its handshake', async () => {
    harness = await startBroker();
    await exchange(harness.path, Buffer.from('Content-Length: 40\r\n\r\n{"jsonrpc"', 'ascii'), 100);
    await new Promise(resolve => setTimeout(resolve, 50));
    assert.ok(harness.audit.some(event => event.outcome === 'refused' && event.detail === 'closed before the handshake'));
  });

  it('closes on malformed JSON and on a frame without Content-Length', async () => {
    harness = await startBroker();
    const malformed = await exchange(harness.path, [frame(hello(harness.secret)), frame('{"jsonrpc": "2.0", "id": 2, "method": ')], 1500, 100);
    assert.equal(parseFrames(malformed.received).length, 1);
    assert.equal(malformed.closed, true);
    const headerless = await exchange(harness.path, Buffer.from('Content-Type: text/plain\r\n\r\nhello'));
    assert.equal(headerless.received, '');
    assert.equal(headerless.closed, true);
  });

  it('closes a connection that never completes its handshake, leaving no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter(resource => resource === 'Timeout').length;
    harness = await startBroker({ limits: { handshakeTimeoutMs: 200 } });
    const before = timers();
    const { closed, received } = await exchange(harness.path, Buffer.from('Content-Length: 50\r\n\r\n{"jsonrpc"'), 2000);
    assert.equal(received, '');
    assert.equal(closed, true);
    await new Promise(resolve => setTimeout(resolve, 500));
    assert.ok(timers() <= before, `the refused connection leaves no timer re-arming itself (${before} before, ${timers()} after)`);
  });

  it('refuses a scope outside the tool\'s allow-list and audits it', async () => {
    harness = await startBroker();
    const { received } = await exchange(harness.path, [frame(hello(harness.secret)), frame(tokenRequest(2, 'get_my_profile', ['Mail.Send']))], 500);
    const error = parseFrames(received)[1].error as { code: number; message: string; data: { reason: string } };
    assert.equal(error.data.reason, 'ScopeNotAllowed');
    assert.match(error.message, /Mail\.Send/);
    assert.match(error.message, /entraMcp\.additionalScopes/);
    assert.equal(harness.tokenRequests.length, 0);
    assert.ok(harness.audit.some(event => event.event === 'token' && event.outcome === 'refused' && event.tool === 'get_my_profile'));
  });

  it('rejects invalid parameters with a clear error', async () => {
    harness = await startBroker();
    const bad = { jsonrpc: '2.0', id: 2, method: 'broker/getToken', params: { tool: 'Bad Tool!', scopes: [] } };
    const { received } = await exchange(harness.path, [frame(hello(harness.secret)), frame(bad)], 500);
    const error = parseFrames(received)[1].error as { data: { reason: string } };
    assert.equal(error.data.reason, 'InvalidParams');
  });

  it('bounds the number of connections', async () => {
    harness = await startBroker({ limits: { maxConnections: 2 } });
    const client = (n: number) => new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: String(n), connectAttempts: 1 });
    const first = client(1);
    const second = client(2);
    assert.ok(await first.warmUp());
    assert.ok(await second.warmUp());
    const third = await exchange(harness.path, frame(hello(harness.secret)), 500);
    assert.equal(third.received, '');
    assert.equal(third.closed, true);
    assert.ok(harness.audit.some(event => event.detail === 'too many connections'));
    first.dispose();
    second.dispose();
  });

  it('closes a drip-fed handshake at the deadline counted from accept', async () => {
    harness = await startBroker({ limits: { handshakeTimeoutMs: 300 } });
    const bytes = frame(hello(harness.secret));
    const drip = [...bytes].map(byte => Buffer.from([byte]));
    const started = Date.now();
    // One byte every 40 ms keeps re-arming the reader's partial-message timer; the whole frame would take seconds.
    const { received, closed } = await exchange(harness.path, drip, 4_000, 40);
    assert.equal(received, '');
    assert.equal(closed, true);
    assert.ok(Date.now() - started < 1_000, `closed after ${Date.now() - started} ms`);
    assert.ok(harness.audit.some(event => event.detail === 'no handshake in time'));
  });

  it('lets the real server in promptly while idle and drip-feeding peers fill the connection slots', async () => {
    harness = await startBroker({ limits: { maxConnections: 4, maxUnauthenticatedConnections: 4 } });
    const idle = Array.from({ length: 12 }, () => net.connect(harness.path).on('error', () => undefined));
    const drip = Array.from({ length: 4 }, () => exchange(harness.path, [...Buffer.from('Content-Length: 200\r\n\r\n')].map(byte => Buffer.from([byte])), 1_500, 100));
    await new Promise(resolve => setTimeout(resolve, 100));
    const client = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: '1', connectAttempts: 1 });
    const started = Date.now();
    const token = await client.getToken('get_my_profile', ['User.Read']);
    assert.ok(token.accessToken.length > 0);
    assert.ok(Date.now() - started < 1_000, `served after ${Date.now() - started} ms`);
    assert.ok(harness.audit.some(event => /^evicted/.test(event.detail ?? '')), 'the oldest waiting connection made room');
    client.dispose();
    for (const socket of idle) { socket.destroy(); }
    await Promise.all(drip);
  });

  it('bounds the time of a request', async () => {
    harness = await startBroker({ limits: { requestTimeoutMs: 100 }, handlers: { getToken: () => new Promise(() => undefined) } });
    const client = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: '1' });
    await assert.rejects(client.getToken('get_my_profile', ['User.Read']), (error: unknown) => isToolError(error) && error.code === 'Timeout');
    client.dispose();
  });

  it('keeps serving a valid client while bad connections are refused', async () => {
    harness = await startBroker();
    const client = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: '1' });
    const bad = Array.from({ length: 10 }, (_, i) => exchange(harness.path, i % 2 ? frame(hello('nope')) : Buffer.from('garbage\r\n\r\n'), 500));
    const good = Array.from({ length: 10 }, () => client.getToken('get_my_profile', ['User.Read']));
    const [badResults, goodResults] = await Promise.all([Promise.all(bad), Promise.all(good)]);
    assert.ok(badResults.every(result => result.received === ''));
    assert.equal(goodResults.length, 10);
    assert.ok(goodResults.every(result => result.accessToken.length > 0));
    client.dispose();
  });

  it('reports idle when its last connection closes', async () => {
    let idle = 0;
    harness = await startBroker({ onIdle: () => idle++ });
    const client = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: '1' });
    await client.warmUp();
    client.dispose();
    await new Promise(resolve => setTimeout(resolve, 100));
    assert.equal(idle, 1);
  });

  it('creates the socket in a 0700 directory as a 0600 socket, and removes it on stop', async function () {
    if (process.platform === 'win32') { this.skip(); }
    harness = await startBroker();
    assert.equal(statSync(dirname(harness.path)).mode & 0o777, 0o700);
    assert.equal(statSync(harness.path).mode & 0o777, 0o600);
    await harness.broker.stop();
    assert.throws(() => statSync(dirname(harness.path)));
  });

  it('uses a random named pipe on Windows and keeps Unix socket paths under the OS limit', () => {
    const pipe = createBrokerEndpoint('win32');
    assert.match(pipe.path, /^\\\\\.\\pipe\\entra-mcp-[0-9a-f]{32}$/);
    const endpoint = createBrokerEndpoint('linux', { XDG_RUNTIME_DIR: `/tmp/${'x'.repeat(150)}` });
    assert.ok(endpoint.path.length <= 107);
    endpoint.dispose();
  });

  it('compares secrets in constant time and never matches an empty expected secret', () => {
    assert.ok(secretsMatch('abc', 'abc'));
    assert.ok(!secretsMatch('abc', 'abd'));
    assert.ok(!secretsMatch('abc', 'abcd'));
    assert.ok(!secretsMatch('', ''));
  });
});
