/**
 * The answer the Graph SDK is handed in place of fetch's Response: for the same bytes and
 * headers, every read the SDK and the tools make must give what fetch's Response gives, and fail
 * where it fails (a body read twice).
 */
import * as assert from 'node:assert/strict';
import { BufferedResponse } from '../../src/server/graph/bufferedResponse';

const JSON_TEXT = JSON.stringify({ displayName: 'Zoë Łukasiewicz 山田', mail: 'zoe@contoso.com' });

/** The same answer both ways: ours and fetch's. */
function pair(bytes: Uint8Array | null, status = 200, contentType = 'application/json; charset=utf-8'): [BufferedResponse, Response] {
  const headers = () => new Headers({ 'Content-Type': contentType, 'request-id': 'r-1' });
  return [
    new BufferedResponse(bytes, { status, statusText: 'OK', headers: headers(), url: 'https://graph.microsoft.com/v1.0/me' }),
    new Response(bytes === null ? null : Buffer.from(bytes), { status, statusText: 'OK', headers: headers() }),
  ];
}

async function readAll(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!stream) { return '<null>'; }
  return Buffer.from(await new Response(stream).arrayBuffer()).toString('utf8');
}

describe('the answer handed to the Graph SDK (BufferedResponse)', () => {
  it('reads as json, text, arrayBuffer, blob and body exactly as fetch\'s Response does', async () => {
    const bytes = Buffer.from(JSON_TEXT);
    for (const read of ['json', 'text', 'arrayBuffer', 'blob', 'body'] as const) {
      const [ours, theirs] = pair(bytes);
      const outcome = async (response: BufferedResponse | Response) => {
        switch (read) {
          case 'json': return JSON.stringify(await response.json());
          case 'text': return response.text();
          case 'arrayBuffer': return Buffer.from(await response.arrayBuffer()).toString('hex');
          // The media type (fetch re-serializes parameters, `; charset` → `;charset`; nothing reads them from a blob).
          case 'blob': { const blob = await response.blob(); return `${blob.type.split(';')[0]} ${Buffer.from(await blob.arrayBuffer()).toString('utf8')}`; }
          case 'body': return readAll(response.body);
        }
      };
      assert.equal(await outcome(ours), await outcome(theirs), read);
    }
  });

  it('drops a leading byte-order mark and replaces invalid UTF-8, as fetch does', async () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_TEXT), Buffer.from([0xff, 0xfe])]);
    const [ours, theirs] = pair(withBom);
    assert.equal(await ours.text(), await theirs.text());
    const [oursJson, theirsJson] = pair(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_TEXT)]));
    assert.deepEqual(await oursJson.json(), await theirsJson.json());
  });

  it('keeps status, ok and headers, and the Headers object the network link built', () => {
    for (const status of [200, 201, 299, 300, 401, 429, 503]) {
      const [ours, theirs] = pair(Buffer.from('{}'), status);
      assert.deepEqual([ours.status, ours.ok, ours.statusText, ours.headers.get('request-id')], [theirs.status, theirs.ok, theirs.statusText, theirs.headers.get('request-id')], String(status));
    }
    const headers = new Headers({ 'Retry-After': '7' });
    assert.equal(new BufferedResponse(null, { status: 429, statusText: '', headers, url: 'https://graph.microsoft.com/v1.0/me' }).headers, headers);
  });

  it('refuses a second read, or a read after its stream was taken, as fetch does; a clone reads on its own', async () => {
    const [ours, theirs] = pair(Buffer.from(JSON_TEXT));
    const clone = ours.clone();
    await ours.json();
    await theirs.json();
    assert.equal(ours.bodyUsed, theirs.bodyUsed);
    await assert.rejects(theirs.text(), TypeError);
    await assert.rejects(ours.text(), TypeError);
    assert.throws(() => ours.clone(), TypeError);
    assert.equal(await clone.text(), JSON_TEXT);

    const [streamed] = pair(Buffer.from(JSON_TEXT));
    assert.equal(await readAll(streamed.body), JSON_TEXT);
    await assert.rejects(streamed.json(), TypeError);
  });

  it('has no body when there was none: null stream, empty text, as fetch\'s', async () => {
    const [ours, theirs] = pair(null, 204);
    assert.equal(ours.body, theirs.body);
    const [oursText, theirsText] = pair(null, 204);
    assert.equal(await oursText.text(), await theirsText.text());
  });

  it('gives each arrayBuffer its own memory, never the pool a Buffer may share', async () => {
    const pooled = Buffer.concat([Buffer.from('a'), Buffer.from(JSON_TEXT)]).subarray(1);
    const [ours] = pair(pooled);
    const buffer = await ours.arrayBuffer();
    assert.equal(buffer.byteLength, Buffer.byteLength(JSON_TEXT));
    new Uint8Array(buffer).fill(0);
    assert.equal(pooled.toString('utf8'), JSON_TEXT, 'writing the copy left the source alone');
  });
});
