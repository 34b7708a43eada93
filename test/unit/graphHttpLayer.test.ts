/**
 * The Graph/ARM HTTP layer attacked from the network side: hostile redirects, oversized and
 * token-echoing answers, query values that need encoding, and headers later pages must keep.
 * Two local HTTPS servers play Graph and "somewhere else"; the client is the tools' own.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@microsoft/microsoft-graph-client';
import { TokenSource } from '../../src/server/brokerClient';
import { collectPages } from '../../src/server/graph/paging';
import { createGraphClient } from '../../src/server/graph/graphClient';
import { toGraphToolError } from '../../src/server/graph/graphErrors';
import { ResponseLimit } from '../../src/server/graph/guardedFetch';
import { shapeGraphResponse } from '../../src/server/graph/shapeResponse';
import { HTML_DEPTH_NOTE, htmlToText } from '../../src/server/tools/shapes';
import { downloadCap } from '../../src/server/tools/files/readFile';

const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls');
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzY3AiOiJVc2VyLlJlYWQifQ.c2lnbmF0dXJl';

interface Seen { host: string; url: string; authorization?: string; prefer?: string }
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

class Endpoint {
  readonly seen: Seen[] = [];
  handler: Handler = (_request, response) => { response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'); };
  private server: https.Server | undefined;
  origin = '';

  async start(): Promise<this> {
    this.server = https.createServer({ key: readFileSync(join(TLS_DIR, 'localhost-key.pem')), cert: readFileSync(join(TLS_DIR, 'localhost.pem')) }, (request, response) => {
      this.seen.push({ host: request.headers.host ?? '', url: request.url ?? '', authorization: request.headers.authorization, prefer: request.headers.prefer as string | undefined });
      this.handler(request, response);
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise(resolve => this.server ? this.server.close(() => resolve()) : resolve());
  }
}

const tokens: TokenSource = {
  getToken: async () => ({ accessToken: TOKEN, expiresOn: Date.now() + 3_600_000, account: 'MeganB@contoso.com', tenantId: 't' }),
  status: async () => ({ signedIn: true, tenant: 'organizations', cloud: 'Azure', grantedScopes: [] }),
};

/** An answer of `mib` MiB without Content-Length, written only as fast as the client reads. */
function streamMiB(mib: number, contentType: string, byte: number): { handler: Handler; written: () => number } {
  let written = 0;
  const chunk = Buffer.alloc(1024 * 1024, byte);
  const handler: Handler = (_request, response) => {
    response.writeHead(200, { 'Content-Type': contentType });
    const pump = () => {
      while (written < mib && response.write(chunk)) { written++; }
      if (written < mib) { response.once('drain', pump); } else { response.end(); }
    };
    pump();
  };
  return { handler, written: () => written };
}

async function failureOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return toGraphToolError(error, 'the request', ['User.Read']).message;
  }
  assert.fail('the request should have failed');
}

describe('Graph HTTP layer', () => {
  let graph: Endpoint;
  let elsewhere: Endpoint;
  let client: Client;

  beforeEach(async () => {
    graph = await new Endpoint().start();
    elsewhere = await new Endpoint().start();
    client = createGraphClient({ endpoint: graph.origin, tokens, retry: { delaySeconds: 0, maxRetries: 0, maxRetryAfterSeconds: 0 } }, 'get_my_profile', ['User.Read']);
  });

  afterEach(async () => {
    await graph.stop();
    await elsewhere.stop();
  });

  it('refuses every redirect off the origin, in every form fetch would resolve to another host', async () => {
    const port = new URL(elsewhere.origin).port;
    const forms = [
      `${elsewhere.origin}/steal`, `https:127.0.0.1:${port}/steal`, `//127.0.0.1:${port}/steal`, `\\\\127.0.0.1:${port}/steal`,
      `https:\\\\127.0.0.1:${port}/steal`, `/\t/127.0.0.1:${port}/steal`, `http://127.0.0.1:${port}/steal`, `http:127.0.0.1:${port}/steal`,
      `http:/${new URL(graph.origin).host}/v1.0/me`,
    ];
    for (const location of forms) {
      graph.handler = (_request, response) => { response.writeHead(302, { Location: location }).end(); };
      const message = await failureOf(client.api('/me').get());
      // Forms WHATWG resolves against the base (`https:host:port/x` is a relative path there)
      // stay on Graph, where the handler redirects again until the redirect limit.
      assert.match(message, /Refused to follow a redirect|not a valid URL|redirected the request more than/, location);
      assert.ok(!message.includes(TOKEN), 'no token in the message');
      assert.equal(elsewhere.seen.length, 0, `nothing, and so no token, reached the other host (${location})`);
    }
    assert.ok(graph.seen.every(seen => seen.host === new URL(graph.origin).host));
  });

  it('follows a file download redirect to another https host without the token', async () => {
    graph.handler = (_request, response) => { response.writeHead(302, { Location: `${elsewhere.origin}/download?tempauth=xyz` }).end(); };
    elsewhere.handler = (_request, response) => { response.writeHead(200, { 'Content-Type': 'text/plain' }).end('file text'); };
    const text = await client.api('/me/drive/items/01ABC/content').responseType('text' as never).get() as string;
    assert.equal(text, 'file text');
    assert.equal(graph.seen[0].authorization, `Bearer ${TOKEN}`);
    assert.equal(elsewhere.seen.length, 1);
    assert.equal(elsewhere.seen[0].authorization, undefined, 'the download host gets no token');
  });

  it('encodes every query value: plus-addressing, & and # in search text, offsets', async () => {
    await client.api('/users').filter("mail eq 'a+b@contoso.com'").query({ $search: '"R&D #1"', startDateTime: '2026-01-01T00:00:00+05:30' }).get();
    const query = new URL(graph.seen[0].url, graph.origin).searchParams;
    assert.equal(query.get('$filter'), "mail eq 'a+b@contoso.com'");
    assert.equal(query.get('$search'), '"R&D #1"');
    assert.equal(query.get('startDateTime'), '2026-01-01T00:00:00+05:30');
  });

  it('asks for every page with the first request\'s Prefer header', async () => {
    graph.handler = (request, response) => {
      const second = request.url?.includes('skip=1');
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({
        value: [{ id: second ? 'b' : 'a' }], ...(second ? {} : { '@odata.nextLink': `${graph.origin}/v1.0/me/calendarView?skip=1` }),
      }));
    };
    const request = client.api('/me/calendarView').header('Prefer', 'outlook.timezone="Pacific Standard Time"');
    const { items } = await collectPages(client, request, { limit: 10, signal: new AbortController().signal });
    assert.deepEqual(items.map(item => item.id), ['a', 'b']);
    assert.deepEqual(graph.seen.map(seen => seen.prefer), ['outlook.timezone="Pacific Standard Time"', 'outlook.timezone="Pacific Standard Time"']);
  });

  it('stops reading an oversized answer while it streams, with a message saying what to do', async () => {
    const stream = streamMiB(64, 'application/json', 0x20);
    graph.handler = stream.handler;
    const message = await failureOf(client.api('/me/messages').get());
    assert.match(message, /larger than .* MB.*Ask for less/);
    assert.ok(stream.written() < 64, `the body was not read whole (${stream.written()} MiB written)`);
  });

  it('accepts 202 Accepted with a JSON content type and no body, as sendMail answers', async () => {
    graph.handler = (_request, response) => { response.writeHead(202, { 'Content-Type': 'application/json; charset=utf-8' }).end(); };
    await client.api('/me/sendMail').post({ message: { subject: 'x' } });
    assert.equal(graph.seen.length, 1);
  });

  it('scrubs token-shaped text out of Graph\'s error code and message', async () => {
    graph.handler = (_request, response) => {
      response.writeHead(400, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: { code: `Bad ${TOKEN}`, message: `Token Bearer ${TOKEN} was rejected; also ${'x'.repeat(5000)}` } }));
    };
    const message = await failureOf(client.api('/me').get());
    assert.ok(!message.includes(TOKEN) && !/eyJ/.test(message), message.slice(0, 200));
    assert.ok(message.length < 1500, 'the message is bounded');
  });

  it('a file download stops at its cap whatever the file claims to be', async () => {
    // No Content-Length: the server says nothing true about the size and streams 32 MiB.
    const stream = streamMiB(32, 'text/plain', 0x61);
    graph.handler = stream.handler;
    const limit = new ResponseLimit(downloadCap(1000), 'truncate');
    const text = await client.api('/me/drive/items/01ABC/content').responseType('text' as never).middlewareOptions([limit]).get() as string;
    assert.equal(text.length, downloadCap(1000));
    assert.equal(limit.truncated, true);
    assert.ok(stream.written() < 32, `the file was not downloaded whole (${stream.written()} MiB written)`);
  });
});

describe('hostile content degrades one item, never the whole result', () => {
  it('HTML nested far deeper than any mail converts with a note instead of overflowing the stack', () => {
    const depth = 50_000;
    const html = `<p>Hello</p>${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}`;
    const text = htmlToText(html);
    assert.match(text, /Hello/);
    assert.ok(text.includes(HTML_DEPTH_NOTE.trim()) || /left out|dropped/.test(text), text.slice(0, 200));
  });

  it('deeply nested JSON in one item of a listing cuts that branch and keeps the others', () => {
    let nested: Record<string, unknown> = { leaf: true };
    for (let level = 0; level < 10_000; level++) { nested = { nested }; }
    const shaped = shapeGraphResponse({ value: [{ id: 'a', subject: 'ok' }, { id: 'b', extra: nested }] });
    assert.equal(shaped.kind, 'collection');
    const items = (shaped as { items: Array<Record<string, unknown>> }).items;
    assert.deepEqual(items.map(item => item.id), ['a', 'b']);
    assert.equal(items[0].subject, 'ok');
    assert.match(String(shaped.note), /nested more than/);
    assert.doesNotThrow(() => JSON.stringify(shaped));
  });
});
