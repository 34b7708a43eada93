/**
 * The early responder answers only what the SDK itself would answer, byte for byte. Generated
 * near-valid first messages (odd ids, unknown members, invalid params, `_meta`, cursors) go to
 * both: the responder, and the SDK the way its stdio transport reads a line
 * (JSONRPCMessageSchema, then the real Server over an in-memory transport).
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { JSONRPCMessage, JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { ToolSelection } from '../../src/shared/toolCatalogue';
import { TokenSource } from '../../src/server/brokerClient';
import { createServer } from '../../src/server/createServer';
import { describeServer } from '../../src/server/startup/describeServer';
import { EarlyResponder, JsonRpcRequestLike } from '../../src/server/startup/earlyResponder';
import { StartupManifest } from '../../src/server/startup/manifest';
import { ToolError } from '../../src/server/toolError';

const VERSION = '1.2.3';
const SELECTION: ToolSelection = { allowWrites: false, enabledTools: [] };
const noToken = () => Promise.reject(new ToolError('BrokerUnavailable', 'no token in this test'));
const NO_TOKENS: TokenSource = { getToken: noToken, status: noToken };

/** A JSON value as text, so ids like 9007199254740993 or members like __proto__ reach JSON.parse as a client wrote them. */
const json = (value: unknown) => JSON.stringify(value);
const objectText = (members: ReadonlyArray<readonly [string, string]>) => `{${members.map(([key, value]) => `${json(key)}:${value}`).join(',')}}`;

/** Mostly what ordinary clients send, sometimes something near it. */
const usually = <T, U>(valid: fc.Arbitrary<T>, odd: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: odd });

const idText = usually(
  fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), fc.string({ maxLength: 4 }).map(json)),
  fc.constantFrom('9007199254740991', '9007199254740993', '-9007199254740993', '12345678901234567890', '1e3', '1.5', '-0', '1.0', 'null', 'true', '[]', '{}'),
);
const oddValue = fc.constantFrom<unknown>(5, null, [], 'x', true, {});
const protocolVersion = usually(fc.constantFrom<unknown>(...SUPPORTED_PROTOCOL_VERSIONS, '2099-01-01', ''), oddValue);
const capabilities = usually(
  fc.record({
    roots: usually(fc.constantFrom<unknown>({}, { listChanged: true }, { listChanged: false }), fc.constantFrom<unknown>(5, { listChanged: 'yes' }, { other: 1 })),
    sampling: usually(fc.constant<unknown>({}), fc.constantFrom<unknown>({ context: {} }, { tools: {} }, { context: 5 }, 5)),
    elicitation: usually(fc.constant<unknown>({}), fc.constantFrom<unknown>({ form: {} }, { url: {} }, { form: 5 }, 5, [])),
  }, { requiredKeys: [] }),
  fc.constantFrom<unknown>({ experimental: {} }, { experimental: { x: 5 } }, { tasks: {} }, { tasks: { list: 5 } }, { somethingNew: {} }, 5, null, []),
);
const clientInfo = usually(
  fc.record({
    name: usually(fc.constantFrom<unknown>('Visual Studio Code', ''), oddValue),
    version: usually(fc.constantFrom<unknown>('1.139.0'), oddValue),
    title: usually(fc.constantFrom<unknown>('VS Code'), oddValue),
  }, { requiredKeys: ['name', 'version'] }),
  fc.constantFrom<unknown>({ name: 'c' }, { name: 'c', version: '1', websiteUrl: 'https://example.com' }, { name: 'c', version: '1', icons: 5 }, { name: 'c', version: '1', extra: 1 }, 5),
);
const initializeParams = usually(
  fc.record({ protocolVersion, capabilities, clientInfo }),
  fc.oneof(
    fc.record({ protocolVersion, capabilities, clientInfo }, { requiredKeys: [] }),
    fc.record({ protocolVersion, capabilities, clientInfo, _meta: fc.constantFrom<unknown>({}, { progressToken: 1 }, { progressToken: null }, 5) }),
    fc.record({ protocolVersion, capabilities, clientInfo, extra: fc.constant<unknown>(1) }),
    oddValue,
  ),
);
const emptyishParams = usually(fc.constant<unknown>({}), fc.constantFrom<unknown>({ cursor: 'next' }, { cursor: 5 }, { _meta: {} }, { _meta: 5 }, { extra: 1 }, null, [], 5));

/** Top-level members: each may be missing, odd, duplicated or joined by an unknown one. */
function message(method: string, params: fc.Arbitrary<unknown>, withId: boolean): fc.Arbitrary<string> {
  return fc.record({
    jsonrpc: usually(fc.constant('"2.0"'), fc.constantFrom('"1.0"', '2', 'null', undefined)),
    id: withId ? usually(idText, fc.constant(undefined)) : usually(fc.constant(undefined), idText),
    method: usually(fc.constant(json(method)), fc.constantFrom('"Initialize"', '5')),
    params: usually(params.map(json), fc.constant(undefined)),
    extra: usually(fc.constant(undefined), fc.constantFrom<readonly [string, string]>(['extra', '1'], ['result', '{}'], ['error', '{}'], ['__proto__', '{}'], ['id', '"dup"'])),
  }).map(({ extra, ...members }) => {
    const present = Object.entries(members).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return objectText(extra ? [...present, extra] : present);
  });
}

const initializeLine = message('initialize', initializeParams, true);
const laterLine = fc.oneof(
  message('notifications/initialized', emptyishParams, false),
  message('tools/list', emptyishParams, true),
  initializeLine,
);
const session = fc.tuple(initializeLine, fc.array(laterLine, { maxLength: 3 })).map(([first, rest]) => [first, ...rest]);

/** The SDK's stdio path for each line in turn: its answer, or undefined when it answers nothing. */
class SdkSession {
  private readonly received: JSONRPCMessage[] = [];
  private readonly server = createServer({ tokens: NO_TOKENS, graph: { endpoint: 'https://graph.invalid', tokens: NO_TOKENS }, armEndpoint: 'https://arm.invalid' }, VERSION, SELECTION);
  private readonly pair = InMemoryTransport.createLinkedPair();
  private sentinel = 0;

  async start(): Promise<void> {
    this.pair[0].onmessage = message => { this.received.push(message); };
    await this.server.connect(this.pair[1]);
    await this.pair[0].start();
  }

  /** Sends the line, then a ping, and returns what came back before the ping's answer. */
  async send(line: string): Promise<{ accepted: boolean; answers: string[] }> {
    const parsed = JSONRPCMessageSchema.safeParse(JSON.parse(line));
    if (parsed.success) { await this.pair[0].send(parsed.data); }
    const id = `sentinel-${++this.sentinel}`;
    await this.pair[0].send({ jsonrpc: '2.0', id, method: 'ping' });
    await waitUntil(() => this.received.some(answer => 'id' in answer && answer.id === id));
    await new Promise(resolve => setTimeout(resolve, 0));
    const answers = this.received.splice(0).filter(answer => !('id' in answer && answer.id === id)).map(answer => JSON.stringify(answer));
    return { accepted: parsed.success, answers };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 1000) { throw new Error('the SDK did not answer the ping'); }
    await new Promise(resolve => setImmediate(resolve));
  }
}

describe('start-up: the early responder agrees with the SDK (property)', () => {
  let manifest: StartupManifest;
  before(async () => { manifest = await describeServer(VERSION); });

  it('answers a generated message only when the SDK accepts it and answers the same bytes', async () => {
    let answeredEarly = 0;
    await fc.assert(fc.asyncProperty(session, async lines => {
      const responder = new EarlyResponder(manifest, SELECTION);
      const sdk = new SdkSession();
      await sdk.start();
      try {
        // The bootstrap stops at the first line it cannot answer and hands everything to the SDK.
        for (const line of lines) {
          const early = responder.answer(JSON.parse(line) as JsonRpcRequestLike);
          if (early === undefined) { return; }
          const fromSdk = await sdk.send(line);
          assert.ok(fromSdk.accepted, `answered early, but the SDK's JSONRPCMessageSchema refuses: ${line}`);
          assert.deepEqual(fromSdk.answers, early === true ? [] : [JSON.stringify(early)], line);
          answeredEarly++;
        }
      } finally {
        await sdk.close();
      }
    }), { numRuns: 300 });
    assert.ok(answeredEarly > 50, `the generator reaches the early answers (${answeredEarly})`);
  });

  for (const [label, line] of [
    ['an unknown top-level member', '{"jsonrpc":"2.0","id":1,"method":"initialize","extra":1,"params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}'],
    ['capabilities.roots: 5', '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":5},"clientInfo":{"name":"c","version":"1"}}}'],
    ['an id past the safe-integer range', '{"jsonrpc":"2.0","id":9007199254740993,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}'],
  ] as const) {
    it(`hands ${label} to the SDK`, () => {
      assert.equal(new EarlyResponder(manifest, SELECTION).answer(JSON.parse(line) as JsonRpcRequestLike), undefined);
    });
  }
});
