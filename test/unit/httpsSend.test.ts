/**
 * The Graph/ARM chains' network link (node:https, kept-alive, in place of fetch) against a local
 * HTTPS server: it must hand the tools what fetch handed them. Compressed answers decoded,
 * request bodies typed as fetch types them, a kept-alive connection the server dropped retried
 * for reads and never for writes, a broken or stalled answer reported as a network failure or a
 * timeout rather than as an unreadable answer.
 */
import * as assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse, createServer as createHttpServer } from 'node:http';
import { Server } from 'node:https';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { TokenSource } from '../../src/server/brokerClient';
import { createGraphClient, requestSignal } from '../../src/server/graph/graphClient';
import { toGraphToolError } from '../../src/server/graph/graphErrors';
import { SYNC_DECODE_MAX_DECODED, SYNC_DECODE_MAX_ENCODED } from '../../src/server/graph/decodedBody';
import { httpsSend } from '../../src/server/graph/httpsSend';
import { BoundedNetworkClient } from '../../src/remote/boundedNetworkClient';
import { CertificateStore, addSystemCertificates } from '../../src/server/graph/systemCertificates';
import { startLocalHttps, stopLocalHttps } from '../helpers/localHttps';

interface Received { method: string; headers: IncomingMessage['headers']; body: string; remotePort: number }
type Handler = (request: IncomingMessage, response: ServerResponse, received: Received) => void;

const tokens: TokenSource = {
  getToken: async () => ({ accessToken: 'token-for-tests', expiresOn: Date.now() + 3_600_000, account: 'MeganB@contoso.com', tenantId: 't' }),
  status: async () => ({ signedIn: true, tenant: 'organizations', cloud: 'Azure', grantedScopes: [] }),
};

const PROFILE = { displayName: 'Megan Bowen', userPrincipalName: 'MeganB@contoso.com', id: '48d31887-5fad-4d73-a9f5-3c356e68a038' };

async function text(answer: Awaited<ReturnType<typeof httpsSend>>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer.body) { chunks.push(chunk as Buffer); }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a body the way a slow consumer does, a chunk at a time with pauses, so backpressure is exercised. */
async function slowlyRead(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    if (chunks.length % 16 === 0) { await new Promise(resolve => setImmediate(resolve)); }
  }
  return Buffer.concat(chunks);
}

describe('Graph network link (node:https, kept alive)', () => {
  let server: Server;
  let origin: string;
  let handler: Handler;
  let received: Received[];

  beforeEach(async () => {
    received = [];
    handler = (_request, response) => { response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(PROFILE)); };
    server = await startLocalHttps((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', chunk => chunks.push(chunk));
      request.on('end', () => {
        const entry = { method: request.method ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), remotePort: request.socket.remotePort ?? 0 };
        received.push(entry);
        handler(request, response, entry);
      });
    });
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => stopLocalHttps(server));

  it('asks for compressed answers and decodes gzip, deflate and br as fetch does', async () => {
    const json = JSON.stringify(PROFILE);
    const encoders: Record<string, (input: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
    for (const coding of Object.keys(encoders)) {
      handler = (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding }).end(encoders[coding](Buffer.from(json)));
      };
      const answer = await httpsSend(new URL(`${origin}/v1.0/me`), { headers: { Authorization: 'Bearer t' } });
      assert.equal(await text(answer), json, coding);
    }
    assert.deepEqual(received.map(entry => entry.headers['accept-encoding']), ['gzip, deflate, br', 'gzip, deflate, br', 'gzip, deflate, br']);
    assert.equal(received[0].headers.accept, '*/*');
    assert.equal(received[0].headers.authorization, 'Bearer t');
  });

  it('decodes answers of every size whole: sent in pieces, larger than is held for one decode, or decoding to far more', async () => {
    // Incompressible enough that the encoded answer is several times what is decoded in one call.
    const large = randomBytes(3 * SYNC_DECODE_MAX_ENCODED).toString('base64');
    const bomb = Buffer.alloc(8 * SYNC_DECODE_MAX_DECODED, 'a');
    const cases: Array<[string, Buffer, (input: Buffer) => Buffer]> = [
      ['small, in pieces', Buffer.from(JSON.stringify(PROFILE)), gzipSync],
      ['large', Buffer.from(large), gzipSync],
      ['large br', Buffer.from(large), brotliCompressSync],
      ['small, decoding to 8 MiB', bomb, gzipSync],
      ['small deflate, decoding to 8 MiB', bomb, deflateSync],
    ];
    for (const [what, plain, encode] of cases) {
      const encoded = encode(plain);
      handler = (_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': encode === gzipSync ? 'gzip' : encode === deflateSync ? 'deflate' : 'br' });
        // In pieces a few bytes to a few KiB long, as a network delivers them.
        const pieces = [encoded.subarray(0, 7), encoded.subarray(7, 4096), encoded.subarray(4096)];
        for (const piece of pieces) { response.write(piece); }
        response.end();
      };
      const answer = await httpsSend(new URL(`${origin}/v1.0/me/messages`), {});
      assert.equal(answer.headers.get('Content-Encoding'), null, what);
      const body = await slowlyRead(answer.body);
      assert.equal(body.byteLength, plain.byteLength, what);
      assert.ok(body.equals(plain), what);
    }
  });

  it('reports a corrupt or cut-off compressed answer as an error, small or large', async () => {
    const large = gzipSync(Buffer.from(randomBytes(3 * SYNC_DECODE_MAX_ENCODED).toString('base64')));
    for (const broken of [Buffer.from('not gzip at all'), gzipSync(Buffer.from(JSON.stringify(PROFILE))).subarray(0, 20), large.subarray(0, large.byteLength - 100)]) {
      handler = (_request, response) => { response.writeHead(200, { 'Content-Encoding': 'gzip' }).end(broken); };
      const answer = await httpsSend(new URL(`${origin}/v1.0/me`), {});
      await assert.rejects(text(answer), /incorrect header check|unexpected end of file/);
    }
  });

  it('through the Graph client: a compression bomb is cut off at the answer cap, not decoded whole', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
    handler = (_request, response) => { response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(bomb); };
    const client = createGraphClient({ endpoint: origin, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'list_messages', ['Mail.Read']);
    const error = await client.api('/me/messages').get().then(() => assert.fail('should have failed'), failure => toGraphToolError(failure, 'listing your mail', ['Mail.Read']));
    assert.match(error.message, /larger than 8 MB and was not read/);
  });

  it('keeps the caller\'s own Accept and Accept-Encoding', async () => {
    await text(await httpsSend(new URL(`${origin}/x`), { headers: { Accept: 'application/json', 'Accept-Encoding': 'identity' } }));
    assert.equal(received[0].headers.accept, 'application/json');
    assert.equal(received[0].headers['accept-encoding'], 'identity');
  });

  it('through the Graph client: a gzip answer arrives as the JSON Graph sent', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(gzipSync(Buffer.from(JSON.stringify(PROFILE))));
    };
    const client = createGraphClient({ endpoint: origin, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'get_my_profile', ['User.Read']);
    assert.deepEqual(await client.api('/me').get(), PROFILE);
  });

  it('sends request bodies with the length and the Content-Type fetch would give them', async () => {
    const cases: Array<[NonNullable<RequestInit['body']>, string, string]> = [
      ['{"a":1}', '{"a":1}', 'text/plain;charset=UTF-8'],
      [new URLSearchParams({ q: 'a b&c' }), 'q=a+b%26c', 'application/x-www-form-urlencoded;charset=UTF-8'],
      [new Blob(['blob body'], { type: 'application/octet-stream' }), 'blob body', 'application/octet-stream'],
      [new TextEncoder().encode('bytes ✓'), 'bytes ✓', ''],
    ];
    for (const [body] of cases) {
      await text(await httpsSend(new URL(`${origin}/upload`), { method: 'POST', body }));
    }
    assert.deepEqual(received.map(entry => [entry.body, entry.headers['content-type'] ?? '']), cases.map(([, sent, type]) => [sent, type]));
    assert.deepEqual(received.map(entry => Number(entry.headers['content-length'])), received.map(entry => Buffer.byteLength(entry.body)));
    await text(await httpsSend(new URL(`${origin}/upload`), { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } }));
    assert.equal(received.at(-1)?.headers['content-type'], 'application/json');
  });

  it('never follows a redirect itself', async () => {
    handler = (_request, response) => { response.writeHead(302, { Location: 'https://elsewhere.invalid/steal' }).end(); };
    const answer = await httpsSend(new URL(`${origin}/v1.0/me/drive/items/1/content`), {});
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.get('Location'), 'https://elsewhere.invalid/steal');
    assert.equal(received.length, 1);
  });

  it('sends headers as given, repeated names joined, and nothing at all when a value would split the request', async () => {
    await text(await httpsSend(new URL(`${origin}/v1.0/me`), { headers: [['X-Trace', 'a'], ['x-trace', 'b'], ['Authorization', 'Bearer t']] }));
    assert.equal(received[0].headers['x-trace'], 'a, b');
    assert.equal(received[0].headers.authorization, 'Bearer t');
    for (const headers of [{ 'X-Trace': 'a\r\nX-Injected: 1' }, { 'X-Trace\r\nX-Injected': '1' }] as Array<Record<string, string>>) {
      await httpsSend(new URL(`${origin}/v1.0/me`), { headers }).then(answer => text(answer), () => undefined);
    }
    assert.equal(received.length, 1, 'a header with a line break is never sent');
    assert.ok(!received.some(entry => 'x-injected' in entry.headers));
  });

  it('sends nothing over plain http', async () => {
    await assert.rejects(httpsSend(new URL(origin.replace('https:', 'http:')), {}), /only https/);
    assert.equal(received.length, 0);
  });

  /** The server drops the kept-alive connection on its second request without answering: a close that raced the reuse. */
  function dropSecondRequestOnAConnection(): void {
    const seenPorts = new Set<number>();
    handler = (request, response, entry) => {
      if (seenPorts.has(entry.remotePort)) {
        request.socket.destroy();
        return;
      }
      seenPorts.add(entry.remotePort);
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(PROFILE));
    };
  }

  const settle = () => new Promise(resolve => setTimeout(resolve, 20));

  it('retries a read once on a fresh connection when the kept-alive one was dropped before answering', async () => {
    dropSecondRequestOnAConnection();
    await text(await httpsSend(new URL(`${origin}/v1.0/me`), {}));
    await settle();
    const answer = await httpsSend(new URL(`${origin}/v1.0/me`), {});
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(await text(answer)), PROFILE);
    assert.equal(received.length, 3);
    assert.equal(received[1].remotePort, received[0].remotePort, 'the second request reused the kept-alive connection');
    assert.notEqual(received[2].remotePort, received[1].remotePort, 'the retry came on a fresh connection');
  });

  it('never repeats a write on a dropped connection: the failure is reported instead', async () => {
    dropSecondRequestOnAConnection();
    await text(await httpsSend(new URL(`${origin}/v1.0/me`), {}));
    await settle();
    await assert.rejects(httpsSend(new URL(`${origin}/v1.0/me/sendMail`), { method: 'POST', body: '{}' }), /ECONNRESET|socket hang up/);
    assert.deepEqual(received.map(entry => entry.method), ['GET', 'POST']);
    assert.equal(received[1].remotePort, received[0].remotePort, 'the POST went on the kept-alive connection');
  });

  /** Starts an answer (compressed or not) and leaves its body unfinished. */
  const startedAnswer = (coding: string | undefined, response: ServerResponse): void => {
    const head = Buffer.from('{"value":[{"id":"1"},');
    response.writeHead(200, { 'Content-Type': 'application/json', ...(coding ? { 'Content-Encoding': coding } : {}) });
    // A full gzip member of the first part, so the decoder has something to chew on before the end never comes.
    response.write(coding ? gzipSync(head).subarray(0, -8) : head);
  };

  it('through the Graph client: a connection that breaks mid-answer is a network failure, not an unreadable answer, compressed or not', async () => {
    for (const coding of [undefined, 'gzip']) {
      handler = (request, response) => {
        startedAnswer(coding, response);
        setTimeout(() => request.socket.destroy(), 20);
      };
      const client = createGraphClient({ endpoint: origin, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'list_messages', ['Mail.Read']);
      const error = await client.api('/me/messages').get().then(() => assert.fail('should have failed'), failure => toGraphToolError(failure, 'listing your mail', ['Mail.Read']));
      assert.equal(error.code, 'NetworkError', `${coding}: ${error.message}`);
      assert.match(error.message, /Could not reach Microsoft Graph for listing your mail \(the connection closed while the answer was read/);
    }
  });

  it('through the Graph client: an answer that stalls mid-body ends at the deadline as a timeout, compressed or not', async () => {
    for (const coding of [undefined, 'gzip']) {
      handler = (_request, response) => startedAnswer(coding, response);
      const client = createGraphClient({ endpoint: origin, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'list_messages', ['Mail.Read']);
      const started = Date.now();
      const error = await client.api('/me/messages').option('signal', AbortSignal.timeout(300)).get()
        .then(() => assert.fail('should have failed'), failure => toGraphToolError(failure, 'listing your mail', ['Mail.Read']));
      assert.equal(error.code, 'Cancelled', `${coding}: ${error.message}`);
      assert.ok(Date.now() - started < 5_000, 'ended at the deadline, not at some socket timeout');
    }
  });
});

describe('a Graph request\'s signal (requestSignal)', () => {
  it('aborts with the caller\'s reason when the caller cancels', () => {
    const caller = new AbortController();
    const signal = requestSignal(caller.signal, { timeoutMs: 60_000 });
    assert.equal(signal.aborted, false);
    caller.abort(new Error('cancelled by the client'));
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as Error).message, 'cancelled by the client');
  });

  it('aborts with a TimeoutError at the deadline, which the tools report as a timeout', async () => {
    const caller = new AbortController();
    const signal = requestSignal(caller.signal, { timeoutMs: 50 });
    await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }));
    assert.equal((signal.reason as DOMException).name, 'TimeoutError');
    assert.equal(toGraphToolError(signal.reason, 'listing your mail', ['Mail.Read']).code, 'Cancelled');
  });

  it('is aborted at once when the caller already was, and without a caller is a plain deadline', async () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    assert.equal(requestSignal(caller.signal, { timeoutMs: 60_000 }).aborted, true);
    const alone = requestSignal(undefined, { timeoutMs: 30 });
    await new Promise(resolve => alone.addEventListener('abort', resolve, { once: true }));
    assert.equal((alone.reason as DOMException).name, 'TimeoutError');
  });
});

describe('the system\'s trusted roots (systemCertificates)', () => {
  const api = (sets: Record<CertificateStore, string[]>, fail = false) => {
    const set: string[][] = [];
    return {
      set,
      getCACertificates: (store: CertificateStore) => sets[store],
      setDefaultCACertificates: (certificates: string[]) => { if (fail) { throw new Error('bad certificate'); } set.push(certificates); },
    };
  };

  it('adds the OS\'s roots to Node\'s own and NODE_EXTRA_CA_CERTS\'s, each once', () => {
    const tls = api({ default: ['bundled', 'extra'], system: ['corporate', 'bundled'] });
    assert.equal(addSystemCertificates({}, tls), 'added');
    assert.deepEqual(tls.set, [['bundled', 'extra', 'corporate']]);
  });

  it('leaves trust alone when VS Code\'s http.systemCertificates is off, when the runtime cannot, and when the OS store fails', () => {
    const tls = api({ default: ['bundled'], system: ['corporate'] });
    assert.equal(addSystemCertificates({ ENTRA_MCP_SYSTEM_CERTIFICATES: 'false' }, tls), 'off');
    assert.deepEqual(tls.set, []);
    assert.equal(addSystemCertificates({}, {}), 'unsupported');
    assert.equal(addSystemCertificates({}, api({ default: [], system: [] }, true)), 'failed');
  });
});

describe('MSAL\'s network client (BoundedNetworkClient)', () => {
  it('reaches a managed identity endpoint over local http, and sends nothing else over plain http', async () => {
    const server = createHttpServer((_request, response) => { response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"access_token":"t"}'); });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token?resource=api://AzureADTokenExchange`;
    try {
      const answer = await new BoundedNetworkClient({ managedIdentityEndpoint: true }).sendGetRequestAsync<{ access_token: string }>(endpoint);
      assert.deepEqual([answer.status, answer.body.access_token], [200, 't']);
      await assert.rejects(new BoundedNetworkClient().sendGetRequestAsync(endpoint), /only https/);
    } finally {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  });
});
