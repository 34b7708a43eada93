/**
 * Property-based fuzzing of the broker protocol (fast-check). Many raw connections at once each
 * write a generated sequence of frames — random bytes, truncated and oversized frames, bad headers,
 * requests out of order, handshakes with wrong, empty, over-long, non-string and earlier-launch
 * secrets, and garbage after a valid handshake — while a real BrokerClient keeps asking for tokens
 * on its own connection. Checked on every connection: nothing is answered before a valid
 * handshake, no token reaches a request that is not entitled to it, no secret is ever echoed, and
 * the broker neither crashes nor leaves a connection undecided.
 *
 *   ENTRA_MCP_FUZZ_FRAMES  frames to write (default 100000; raise it for soak runs)
 *   ENTRA_MCP_FUZZ_LANES   connections in flight at once (default 24)
 *   ENTRA_MCP_FUZZ_SEED    base seed; printed in the summary line and in every failure
 *   ENTRA_MCP_FUZZ_REPLAY  `seed:path` from a fast-check failure report: replays that one counterexample
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { TextDecoder } from 'node:util';
import * as fc from 'fast-check';
import { redactCredentials } from '../../src/extension/audit';
import { BrokerClient } from '../../src/server/brokerClient';
import { GetTokenParamsSchema, HelloParamsSchema, PROTOCOL_VERSION } from '../../src/shared/protocol';
import { ScopeAllowList } from '../../src/shared/scopes';
import { TOOL_CATALOGUE, allowedScopesFor } from '../../src/shared/toolCatalogue';
import { Harness, frame, startBroker, tokenRequest } from '../helpers/brokerHarness';
import { readFakeToken } from '../helpers/tokens';

const TARGET_FRAMES = envInt('ENTRA_MCP_FUZZ_FRAMES', 100_000);
const LANES = envInt('ENTRA_MCP_FUZZ_LANES', 24);
const BASE_SEED = process.env.ENTRA_MCP_FUZZ_SEED ? Number(process.env.ENTRA_MCP_FUZZ_SEED) | 0 : Math.floor(Math.random() * 0x7fffffff);
const REPLAY = parseReplay(process.env.ENTRA_MCP_FUZZ_REPLAY);

const MAX_FRAME_BYTES = 4096;
/** Also the broker's partial-frame timeout: truncated frames are given up on this quickly. */
const HANDSHAKE_TIMEOUT_MS = 200;
/** No connection may stay undecided (neither answered nor closed) longer than this; generous for slow CI machines. */
const DEADLINE_MS = 20_000;
/** Silence after which an authenticated connection that owes no more answers is let go. */
const QUIET_MS = 300;
/** The guard's limit on a header block (frameSizeGuard.ts). */
const MAX_HEADER_BYTES = 1024;
/** Anything shaped like a JWT: the fake tokens, and any real one. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;

// ─────────────────────────────── frame specifications ───────────────────────────────
// Plans are symbolic so that fast-check can print and shrink them without the launch's secret:
// a secret is a placeholder string, resolved only when the frame is rendered.

type SecretVariant = 'current' | 'old' | 'flip' | 'prefix' | 'suffix' | 'upper' | 'padded' | 'repeat';
const secretRef = (variant: SecretVariant, n = 0) => `\u0000secret:${variant}:${n}\u0000`;

type FrameSpec =
  /** A JSON value, framed correctly. */
  | { t: 'msg'; value: unknown }
  /** Arbitrary text (usually not JSON), framed correctly; latin1 makes invalid UTF-8. */
  | { t: 'text'; text: string; latin1: boolean }
  /** Raw bytes, no framing. */
  | { t: 'bytes'; bytes: Uint8Array }
  /** Content-Length announces the whole body, but `missing` bytes of it never come. */
  | { t: 'truncated'; value: unknown; missing: number }
  /** Content-Length announces `cut` bytes fewer than the body. */
  | { t: 'short'; value: unknown; cut: number }
  /** Content-Length above the frame limit (or absurd), followed by a few bytes. */
  | { t: 'oversized'; announced: string; sent: number }
  /** An otherwise entitled token request padded `over` bytes past the frame limit. */
  | { t: 'bigbody'; over: number }
  /** A hand-made header block ({N} is the body's length), then the body. */
  | { t: 'headers'; lines: readonly string[]; value: unknown }
  /** A header block longer than the guard accepts. */
  | { t: 'hugeheader'; size: number };

interface Plan {
  frames: FrameSpec[];
  /** Byte offsets (modulo the payload length) where the payload is split into writes. */
  splits: number[];
  /** Between writes: -1 none, 0 one event-loop turn, n > 0 milliseconds. */
  pause: number;
  /**
   * After writing: wait for the broker, half-close, or drop the connection at once. Waiting and
   * half-closing connections send nothing after a valid handshake until it is answered (as the
   * real client does); dropped ones send everything at once.
   */
  end: 'wait' | 'end' | 'destroy';
}

function maybe<T>(arbitrary: fc.Arbitrary<T>, presentOutOf10: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: presentOutOf10, arbitrary }, { weight: 10 - presentOutOf10, arbitrary: fc.constant(undefined) });
}

/** Builds an object without the keys whose value is undefined. */
function compact(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

const nonString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant({}), fc.array(fc.integer(), { maxLength: 3 }));
const anyJson = fc.jsonValue({ maxDepth: 2 });
const requestId = fc.oneof(
  { weight: 5, arbitrary: fc.integer() },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 53, 1e21, '', '__proto__') },
);
const anyId = fc.oneof(
  { weight: 8, arbitrary: requestId },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, {}, [1]) },
);
const jsonrpc = fc.oneof({ weight: 9, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom('1.0', 2, null, undefined) });

const toolNames = TOOL_CATALOGUE.map(tool => tool.name);
const tool = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...toolNames) },
  { weight: 2, arbitrary: fc.constantFrom('Bad Tool!', '', 'GET_MY_PROFILE', 'get-my-profile', 'get_my_profile ', 'x'.repeat(65), '__proto__', 'constructor') },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: nonString },
);
const scope = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(
    'User.Read', 'user.read', 'USER.READ', 'People.Read', 'Mail.Read', 'Mail.Send', 'User.ReadBasic.All', 'GroupMember.Read.All',
    'Directory.ReadWrite.All', 'Calendars.Read', 'Files.Read.All', 'https://graph.microsoft.com/User.Read', 'https://graph.microsoft.com/.default',
    'https://management.azure.com/.default', 'https://management.azure.com/user_impersonation', '.default', 'offline_access', 'openid',
    'VSCODE_CLIENT_ID:aebc6443-996d-45c2-90f0-388ff96faa56', 'VSCODE_TENANT:common', ' User.Read', 'User.Read ', 'User.Read Mail.Send', '*', '') },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('U'.repeat(257)) },
  { weight: 1, arbitrary: nonString },
);
const scopes = fc.oneof({ weight: 9, arbitrary: fc.array(scope, { maxLength: 22 }) }, { weight: 1, arbitrary: fc.oneof(nonString, fc.string({ maxLength: 10 })) });
const tokenParams = fc.record({
  tool: maybe(tool, 9),
  scopes: maybe(scopes, 9),
  wwwAuthenticate: maybe(fc.oneof(fc.string({ maxLength: 64 }), fc.integer()), 2),
  forceRefresh: maybe(fc.oneof(fc.boolean(), fc.constant('yes')), 2),
  junk: maybe(anyJson, 1),
}).map(compact);
/** Requests a fuzz connection is entitled to a token for (the allow-list admits them). */
const entitledParams = fc.record({
  tool: fc.constantFrom('get_my_profile', 'get_my_manager', 'find_people', 'graph_get'),
  forceRefresh: maybe(fc.boolean(), 3),
}).map(({ tool: name, forceRefresh }) => compact({
  tool: name,
  scopes: name === 'find_people' ? ['People.Read'] : name === 'graph_get' ? ['User.Read', 'Mail.Read'] : name === 'get_my_manager' ? ['User.Read.All'] : ['User.Read'],
  forceRefresh,
}));
const statusParams = fc.oneof(
  fc.constantFrom(...toolNames).map(name => ({ tool: name })),
  fc.record({ tool: maybe(tool, 8), junk: maybe(anyJson, 3) }).map(compact),
);
/** Positional parameters: vscode-jsonrpc spreads them into the handler's arguments. */
const positional = <T>(params: fc.Arbitrary<T>) => fc.oneof(params.map(value => [value]), fc.tuple(params, anyJson), fc.constant([]));

const wrongSecret = fc.oneof(
  { weight: 3, arbitrary: fc.constant(secretRef('old')) },
  { weight: 3, arbitrary: fc.nat({ max: 63 }).map(n => secretRef('flip', n)) },
  { weight: 1, arbitrary: fc.nat({ max: 64 }).map(n => secretRef('prefix', n)) },
  { weight: 2, arbitrary: fc.constantFrom(secretRef('suffix'), secretRef('upper'), secretRef('padded'), secretRef('repeat')) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytes => Buffer.from(bytes).toString('hex')) },
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 513, max: 3000 }).map(n => 'a'.repeat(n)) },
  { weight: 2, arbitrary: fc.oneof(nonString, fc.constant([secretRef('current')]), fc.constant({ secret: secretRef('current') })) },
);
const client = fc.record({ name: fc.string({ maxLength: 20 }), version: fc.string({ maxLength: 10 }), pid: fc.integer() });
const badClient = fc.oneof(
  fc.constant(undefined), anyJson,
  client.map(value => ({ ...value, pid: value.pid + 0.5 })),
  client.map(value => ({ ...value, name: 'n'.repeat(101) })),
  client.map(value => ({ ...value, version: 'v'.repeat(51) })),
  client.map(value => ({ ...value, extra: true })),
);
const helloParams = (secret: fc.Arbitrary<unknown>) => fc.record({
  secret: maybe(secret, 9),
  protocolVersion: fc.oneof({ weight: 6, arbitrary: fc.constant(PROTOCOL_VERSION) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, -1, 1.5, '1', null, undefined) }),
  client: fc.oneof({ weight: 6, arbitrary: client }, { weight: 1, arbitrary: badClient }),
  junk: maybe(anyJson, 1),
}).map(compact);
const validHelloParams = client.map(value => ({ secret: secretRef('current'), protocolVersion: PROTOCOL_VERSION, client: value }));
/** Handshakes that must be refused: a wrong secret, or the right one in a malformed handshake. */
const badHelloParams = fc.oneof(
  { weight: 3, arbitrary: helloParams(wrongSecret) },
  { weight: 1, arbitrary: helloParams(fc.constant(secretRef('current'))) },
  { weight: 1, arbitrary: positional(validHelloParams) },
);

const method = fc.oneof(
  { weight: 10, arbitrary: fc.constant('broker/getToken') },
  { weight: 4, arbitrary: fc.constant('broker/status') },
  { weight: 2, arbitrary: fc.constantFrom(
    '$/cancelRequest', '$/setTrace', '$/logTrace', '$/progress', 'broker/gettoken', 'broker/getToken ', 'broker/', '', '__proto__',
    'constructor', 'hasOwnProperty', 'toString', 'rpc.discover', 'initialize', 'x'.repeat(300)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
);
const params = fc.oneof(
  { weight: 8, arbitrary: tokenParams },
  { weight: 1, arbitrary: entitledParams },
  { weight: 2, arbitrary: statusParams },
  { weight: 1, arbitrary: positional(fc.oneof(tokenParams, entitledParams)) },
  { weight: 1, arbitrary: fc.record({ id: maybe(requestId, 7), token: maybe(requestId, 3), value: maybe(anyJson, 3) }).map(compact) },
  { weight: 1, arbitrary: fc.oneof(anyJson, fc.constant(null)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
/** Well-formed JSON-RPC-ish messages that never carry a secret (they may be answered, and answers echo). */
const rpc = fc.record({ jsonrpc, id: anyId, method, params }).map(compact);
/** An entitled token request. */
const entitled = fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, method: fc.constant('broker/getToken'), params: fc.oneof(entitledParams, positional(entitledParams)) });
/** A broker request without parameters (vscode-jsonrpc refuses those itself, before any handler runs). */
const bare = fc.record({ jsonrpc: fc.constant('2.0'), id: requestId, method: fc.constantFrom('broker/getToken', 'broker/status', 'broker/hello') });
/** A reply from the "server" side: the broker never sent a request, so nothing should match. */
const response = fc.record({ jsonrpc: fc.constant('2.0'), id: anyId, result: maybe(anyJson, 7), error: maybe(fc.record({ code: fc.integer(), message: fc.string() }), 3) }).map(compact);
const badHello = fc.record({
  jsonrpc,
  id: anyId,
  method: fc.oneof({ weight: 9, arbitrary: fc.constant('broker/hello') }, { weight: 1, arbitrary: fc.constantFrom('broker/Hello', 'broker/hello ', 'hello') }),
  params: fc.oneof({ weight: 8, arbitrary: badHelloParams }, { weight: 1, arbitrary: positional(badHelloParams) }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'hello') }),
}).map(compact);
const validHello = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: requestId,
  method: fc.constant('broker/hello'),
  params: validHelloParams,
});

const msg = (value: fc.Arbitrary<unknown>): fc.Arbitrary<FrameSpec> => value.map(v => ({ t: 'msg' as const, value: v }));
/** Bodies for the framing attacks: anything but a valid handshake, so framing never decides who is authenticated. */
const body = fc.oneof(rpc, response, anyJson);
const headerLines: fc.Arbitrary<readonly string[]> = fc.oneof(
  fc.constantFrom(
    ['Content-Type: application/json'], ['Content-Length: -{N}'], ['Content-Length: {N}.0'], ['Content-Length: {N}abc'], ['Content-Length: 0x{N}'],
    ['Content-Length:'], ['Content-Length: 1234567890123'], ['Content-Length : {N}'], [' Content-Length: {N}'], ['Content-Length: {N}\nX-Bare-LF: 1'],
    ['Content-Length: {N}', 'Content-Length: 999999999'], ['Content-Length: 1', 'Content-Length: {N}'], ['content-length: {N}', 'Content-Length: 5000'],
    ['content-length: {N}'], ['Content-Length:{N}'], ['Content-Length: 000{N}'], ['Content-Length: {N}  '], ['X-Junk: y', 'Content-Length: {N}'],
    ['Content-Length: {N}', 'Content-Type: application/vscode-jsonrpc; charset=latin1'], ['Content-Length: {N}', 'NoColonHere'],
    ['Content-Length: {N}', '\u0000\u00ff\u00fe'], ['Content-Length: \u0661\u0662'], [],
  ),
  fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 4 }),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('Content-Length: {N}')).map(([junk, length]) => [junk, length]),
);
const interestingBytes = [13, 10, 58, 32, 9, 0, 0xff, 0x7b, 0x7d, 0x22, ...Buffer.from('Content-Length0123456789')];
const bytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 96 }),
  fc.array(fc.constantFrom(...interestingBytes), { minLength: 1, maxLength: 96 }).map(values => Uint8Array.from(values)),
  fc.constantFrom('\r\n\r\n', 'Content-Length: 5\r\n', 'Content-Length: 5\r\n\r\n', '\r\n', '{"jsonrpc":"2.0"}').map(text => Uint8Array.from(Buffer.from(text))),
);
/** Frames that break the framing or the connection: after one of these the broker may close. */
const breaker: fc.Arbitrary<FrameSpec> = fc.oneof(
  { weight: 3, arbitrary: bytes.map(value => ({ t: 'bytes' as const, bytes: value })) },
  { weight: 2, arbitrary: fc.record({ text: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', '{', '[1,', '{"jsonrpc":"2.0","id":1,"method":', '\uFEFF', 'null null')), latin1: fc.boolean() }).map(value => ({ t: 'text' as const, ...value })) },
  { weight: 3, arbitrary: fc.record({ value: body, missing: fc.integer({ min: 1, max: 400 }) }).map(value => ({ t: 'truncated' as const, ...value })) },
  { weight: 1, arbitrary: fc.record({ value: body, cut: fc.integer({ min: 1, max: 400 }) }).map(value => ({ t: 'short' as const, ...value })) },
  { weight: 2, arbitrary: fc.record({
    // 4072 makes a frame of exactly the limit (accepted, then truncated), 4073 one byte over; 13+ digits are not a length at all.
    announced: fc.oneof(fc.integer({ min: MAX_FRAME_BYTES + 1, max: 1e12 - 1 }).map(String), fc.constantFrom('4072', '4073', '4294967296', '9007199254740993', '99999999999999999999')),
    sent: fc.nat({ max: 64 }),
  }).map(value => ({ t: 'oversized' as const, ...value })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map(over => ({ t: 'bigbody' as const, over })) },
  { weight: 3, arbitrary: fc.record({ lines: headerLines, value: body }).map(value => ({ t: 'headers' as const, ...value })) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_HEADER_BYTES, max: 3000 }).map(size => ({ t: 'hugeheader' as const, size })) },
  { weight: 2, arbitrary: msg(fc.oneof(validHello, badHello)) },
  { weight: 1, arbitrary: msg(fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('$/cancelRequest'), params: fc.constantFrom(undefined, null) }).map(compact)) },
);
/** Follow-ups on an authenticated connection: mostly well-framed, rarely fatal. */
const followUp: fc.Arbitrary<FrameSpec> = fc.oneof(
  { weight: 400, arbitrary: msg(rpc) },
  { weight: 32, arbitrary: msg(entitled) },
  { weight: 24, arbitrary: msg(response) },
  { weight: 24, arbitrary: msg(anyJson) },
  { weight: 1, arbitrary: breaker },
);
/** The opening frame of a connection that must not be answered. */
const opener: fc.Arbitrary<FrameSpec> = fc.oneof(
  { weight: 8, arbitrary: msg(badHello) },
  { weight: 4, arbitrary: msg(fc.oneof(rpc, entitled)) },
  { weight: 1, arbitrary: msg(fc.oneof(response, anyJson)) },
  { weight: 4, arbitrary: breaker },
);
const planTail = {
  splits: fc.array(fc.nat(), { maxLength: 8 }),
  pause: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }) }),
  end: fc.oneof({ weight: 7, arbitrary: fc.constant('wait' as const) }, { weight: 2, arbitrary: fc.constant('end' as const) }, { weight: 1, arbitrary: fc.constant('destroy' as const) }),
};
/** Gives a message frame the id of the opening message (vscode-jsonrpc queues requests by id). */
function reuseId(first: FrameSpec, spec: FrameSpec): FrameSpec {
  const id = first.t === 'msg' && typeof first.value === 'object' && first.value !== null ? (first.value as { id?: unknown }).id : undefined;
  return id !== undefined && spec.t === 'msg' && typeof spec.value === 'object' && spec.value !== null && !Array.isArray(spec.value) ? { ...spec, value: { ...spec.value, id } } : spec;
}
/** Out of order, wrong secret, or broken framing first; then anything (a valid handshake included), often reusing the first id. */
const refusedPlan: fc.Arbitrary<Plan> = fc.record({
  frames: fc.tuple(opener, fc.array(fc.oneof(msg(fc.oneof(validHello, entitled, rpc, bare)), breaker), { maxLength: 5 }), fc.boolean())
    .map(([first, rest, sameId]) => [first, ...(sameId ? rest.map(spec => reuseId(first, spec)) : rest)]),
  ...planTail,
});
/** A valid handshake, then 20–200 follow-ups and perhaps a breaker at the end. */
const authenticatedPlan: fc.Arbitrary<Plan> = fc.record({
  frames: fc.tuple(msg(validHello), fc.array(followUp, { minLength: 20, maxLength: 200, size: 'max' }), maybe(breaker, 4))
    .map(([first, rest, last]) => (last ? [first, ...rest, last] : [first, ...rest])),
  ...planTail,
});
const planArb = fc.oneof(refusedPlan, authenticatedPlan);

// ─────────────────────────────── rendering and the oracle ───────────────────────────────

interface Context {
  secret: string;
  oldSecret: string;
  disallowed(tool: string, scopes: readonly string[]): string[];
}

interface Rendered {
  bytes: Buffer;
  /** The message the broker decodes from this frame, when the frame is well-framed and decodes. */
  message?: unknown;
  /** Well-framed, within the limits, and decodes: the framing is still in step afterwards. */
  clean: boolean;
  /** A message inside the frame, whether or not the broker will ever see it (for id bookkeeping). */
  carried?: unknown;
}

function resolveSecrets(json: string, ctx: Context): string {
  return json.replace(/\\u0000secret:([a-z]+):(\d+)\\u0000/g, (_match, variant: SecretVariant, n: string) => {
    const { secret, oldSecret } = ctx;
    const at = Number(n) % secret.length;
    switch (variant) {
      case 'current': return secret;
      case 'old': return oldSecret;
      case 'flip': return secret.slice(0, at) + (secret[at] === '0' ? '1' : '0') + secret.slice(at + 1);
      case 'prefix': return secret.slice(0, Number(n) % secret.length);
      case 'suffix': return `${secret}0`;
      case 'upper': return secret.toUpperCase() === secret ? `${secret}A` : secret.toUpperCase();
      case 'padded': return ` ${secret}`;
      case 'repeat': return secret.repeat(9);
    }
  });
}

function encode(value: unknown, ctx: Context): Buffer {
  return Buffer.from(resolveSecrets(JSON.stringify(value) ?? 'null', ctx), 'utf8');
}

function withLength(announced: string | number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`Content-Length: ${announced}\r\n\r\n`, 'latin1'), body]);
}

const utf8 = new TextDecoder('utf-8');

/** What vscode-jsonrpc makes of a body: JSON.parse of the UTF-8 text (a BOM dropped, bad bytes replaced). */
function decode(body: Buffer): { ok: true; message: unknown } | { ok: false } {
  try {
    return { ok: true, message: JSON.parse(utf8.decode(body)) };
  } catch {
    return { ok: false };
  }
}

function render(spec: FrameSpec, ctx: Context): Rendered {
  switch (spec.t) {
    case 'msg':
    case 'text': {
      const body = spec.t === 'msg' ? encode(spec.value, ctx) : Buffer.from(spec.text, spec.latin1 ? 'latin1' : 'utf8');
      const bytes = withLength(body.length, body);
      const decoded = decode(body);
      const message = decoded.ok ? decoded.message : undefined;
      return { bytes, message, carried: message, clean: decoded.ok && bytes.length <= MAX_FRAME_BYTES };
    }
    case 'bytes':
      return { bytes: Buffer.from(spec.bytes), clean: false };
    case 'truncated': {
      const body = encode(spec.value, ctx);
      return { bytes: withLength(body.length, body.subarray(0, Math.max(0, body.length - spec.missing))), clean: false, carried: spec.value };
    }
    case 'short': {
      const body = encode(spec.value, ctx);
      return { bytes: withLength(Math.max(0, body.length - spec.cut), body), clean: false, carried: spec.value };
    }
    case 'oversized':
      return { bytes: withLength(spec.announced, Buffer.alloc(spec.sent, 'x')), clean: false };
    case 'bigbody': {
      const base = frame(tokenRequest(1)).length + ',"wwwAuthenticate":""'.length;
      const request = { ...tokenRequest(1), params: { tool: 'get_my_profile', scopes: ['User.Read'], wwwAuthenticate: 'p'.repeat(Math.max(0, MAX_FRAME_BYTES + spec.over - base)) } };
      return { bytes: frame(request), clean: false };
    }
    case 'headers': {
      const body = encode(spec.value, ctx);
      const header = spec.lines.map(line => line.replaceAll('{N}', String(body.length))).join('\r\n');
      return { bytes: Buffer.concat([Buffer.from(`${header}\r\n\r\n`, 'latin1'), body]), clean: false, carried: decode(body).ok ? spec.value : undefined };
    }
    case 'hugeheader':
      return { bytes: Buffer.from(`X-Pad: ${'a'.repeat(spec.size)}\r\nContent-Length: 2\r\n\r\n{}`, 'latin1'), clean: false };
  }
}

interface Classified {
  /** JSON of the id, for requests (method and a string or number id): these get exactly one answer. */
  requestId?: string;
  /** vscode-jsonrpc queues requests by `String(id)`: of several waiting with one key, only the last is handled. */
  queueKey?: string;
  /** A token request the allow-list admits: the only kind that may be answered with a token. */
  entitledScopes?: string;
  hello: boolean;
  /** Makes the broker close even on an authenticated connection. */
  fatal: boolean;
}

/** Message kinds as vscode-jsonrpc tells them apart (Message.isRequest / isNotification). */
function classify(message: unknown, ctx: Context): Classified {
  const none: Classified = { hello: false, fatal: false };
  if (typeof message !== 'object' || message === null || Array.isArray(message)) { return none; }
  const m = message as Record<string, unknown>;
  if (typeof m.method !== 'string') { return none; }
  if (typeof m.id !== 'string' && typeof m.id !== 'number') {
    // vscode-jsonrpc looks up a cancellation's `params.id.toString()` before anything else: without an id that throws and the reader fails.
    const cancelled = (m.params as { id?: unknown } | null | undefined)?.id;
    return { ...none, fatal: m.id === undefined && m.method === '$/cancelRequest' && (cancelled === undefined || cancelled === null) };
  }
  const requestId = JSON.stringify(m.id);
  const queueKey = String(m.id);
  if (m.method === 'broker/hello') { return { requestId, queueKey, hello: true, fatal: true }; }
  let entitledScopes: string | undefined;
  if (m.method === 'broker/getToken') {
    // Positional parameters are spread into the handler: [p] is p; [p, x] passes x as the cancellation token and fails.
    const p = Array.isArray(m.params) ? (m.params.length === 1 ? m.params[0] : undefined) : m.params;
    const parsed = GetTokenParamsSchema.safeParse(p);
    if (parsed.success && ctx.disallowed(parsed.data.tool, parsed.data.scopes).length === 0) {
      entitledScopes = parsed.data.scopes.join(' ');
    }
  }
  return { requestId, queueKey, entitledScopes, hello: false, fatal: false };
}

function isValidHello(rendered: Rendered, ctx: Context): boolean {
  return rendered.clean && isValidHelloMessage(rendered.message, ctx);
}

/** A handshake request with named parameters (the broker refuses positional ones), the current secret and protocol. */
function isValidHelloMessage(message: unknown, ctx: Context): boolean {
  const m = message as Record<string, unknown>;
  if (!classify(m, ctx).hello || Array.isArray(m.params)) { return false; }
  const parsed = HelloParamsSchema.safeParse(m.params);
  return parsed.success && parsed.data.secret === ctx.secret && parsed.data.protocolVersion === PROTOCOL_VERSION;
}

/**
 * The first message vscode-jsonrpc's reader takes from a payload, provided the frame-size guard
 * lets its header through: a frame the fuzzer meant as garbage can merge with the next one into a
 * frame both accept (an extra header line, say), and then the next one's message is the first.
 * The two read the header the same way except for a repeated Content-Length (the guard takes the
 * first, the reader the last).
 */
function firstMessage(payload: Buffer): unknown {
  const end = payload.indexOf('\r\n\r\n');
  if (end === -1 || end + 4 > MAX_HEADER_BYTES) { return undefined; }
  const header = payload.subarray(0, end + 4).toString('latin1');
  const guarded = /^content-length:[ \t]*(\d{1,12})[ \t]*$/im.exec(header);
  if (!guarded || Number(guarded[1]) + header.length > MAX_FRAME_BYTES) { return undefined; }
  let length: string | undefined;
  for (const line of payload.subarray(0, end).toString('ascii').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) { return undefined; }
    if (line.slice(0, colon).toLowerCase() === 'content-length') { length = line.slice(colon + 1).trim(); }
  }
  const bodyLength = parseInt(length ?? '', 10);
  if (!(bodyLength >= 0) || payload.length < end + 4 + bodyLength) { return undefined; }
  const decoded = decode(payload.subarray(end + 4, end + 4 + bodyLength));
  return decoded.ok ? decoded.message : undefined;
}

interface Expectation {
  authenticated: boolean;
  helloId?: string;
  /** Index of the first frame that may break an authenticated connection (frames.length if none). */
  breakerAt: number;
  /**
   * Requests before `breakerAt`: the broker must answer them all. Counted by queue key, since
   * vscode-jsonrpc keeps only the last of several queued requests with one key.
   */
  owed: number;
  /** Per request id: how many requests carry it, and the scopes of the entitled ones. */
  requests: Map<string, number>;
  entitled: Map<string, string[]>;
}

function foresee(rendered: Rendered[], ctx: Context): Expectation {
  const authenticated = isValidHello(rendered[0], ctx);
  const expectation: Expectation = { authenticated, breakerAt: authenticated ? rendered.length : 0, owed: 0, requests: new Map(), entitled: new Map() };
  const owedKeys = new Set<string>();
  rendered.forEach((frameOut, index) => {
    const seen = classify(frameOut.carried, ctx);
    if (seen.requestId !== undefined) {
      expectation.requests.set(seen.requestId, (expectation.requests.get(seen.requestId) ?? 0) + 1);
      if (seen.entitledScopes !== undefined) {
        expectation.entitled.set(seen.requestId, [...(expectation.entitled.get(seen.requestId) ?? []), seen.entitledScopes]);
      }
    }
    if (!authenticated || index > expectation.breakerAt) { return; }
    if (index === 0) {
      expectation.helloId = seen.requestId;
      owedKeys.add(seen.queueKey as string);
    } else if (!frameOut.clean || seen.fatal) {
      expectation.breakerAt = index;
    } else if (seen.queueKey !== undefined) {
      owedKeys.add(seen.queueKey);
    }
  });
  expectation.owed = owedKeys.size;
  return expectation;
}

// ─────────────────────────────── driving one connection ───────────────────────────────

interface Observed {
  connected: boolean;
  received: Buffer;
  closedByBroker: boolean;
  timedOut: boolean;
  writtenBytes: number;
}

/** Splits broker output into messages; an unfinished last frame is returned as the tail. */
function readResponses(received: Buffer): { messages: Array<{ raw: string; value: Record<string, unknown> }>; tail: Buffer } {
  const messages: Array<{ raw: string; value: Record<string, unknown> }> = [];
  let rest = received;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) { return { messages, tail: rest }; }
    const match = /^Content-Length: (\d+)$/.exec(rest.subarray(0, end).toString('latin1'));
    assert.ok(match, `the broker writes Content-Length frames, got ${JSON.stringify(redact(rest.subarray(0, 80).toString('latin1')))}`);
    const length = Number(match[1]);
    if (rest.length < end + 4 + length) { return { messages, tail: rest }; }
    const raw = rest.subarray(end + 4, end + 4 + length).toString('utf8');
    messages.push({ raw, value: JSON.parse(raw) as Record<string, unknown> });
    rest = rest.subarray(end + 4 + length);
  }
}

/**
 * Writes the payload in the plan's pieces and collects what comes back until the broker closes
 * the connection or the deadline passes. On an authenticated connection (`owed` given) the
 * frames after the handshake (from `helloEnd`) wait for its answer, as a real client does; the
 * frames from `breakAt` on wait until the owed answers are in; and a waiting connection is let
 * go once it has them all and, if anything followed, has been quiet a while.
 */
function drive(path: string, payload: Buffer, plan: Plan, owed: number | undefined, helloEnd: number, breakAt: number): Promise<Observed> {
  const cuts = new Set(plan.splits.map(split => split % Math.max(1, payload.length)));
  if (owed !== undefined) { cuts.add(helloEnd).add(breakAt); }
  const writes: Array<{ at: number; part: Buffer }> = [];
  let from = 0;
  for (const at of [...cuts, payload.length].sort((a, b) => a - b)) {
    if (at > from) { writes.push({ at: from, part: payload.subarray(from, at) }); from = at; }
  }
  return new Promise(resolve => {
    const socket = net.connect(path);
    const chunks: Buffer[] = [];
    const observed: Observed = { connected: false, received: Buffer.alloc(0), closedByBroker: false, timedOut: false, writtenBytes: 0 };
    let letGo = false;
    let writing = true;
    let closed = false;
    let quiet: NodeJS.Timeout | undefined;
    let onProgress = () => {};
    const letItGo = () => { letGo = true; socket.destroy(); };
    const deadline = setTimeout(() => { observed.timedOut = true; letItGo(); }, DEADLINE_MS);
    // Answers so far, counted as they arrive (malformed output counts as everything: the checks will say what is wrong).
    let count = 0;
    let unread: Buffer = Buffer.alloc(0);
    const countAnswers = (chunk: Buffer) => {
      unread = unread.length ? Buffer.concat([unread, chunk]) : chunk;
      for (;;) {
        const end = unread.indexOf('\r\n\r\n');
        if (end === -1) { return; }
        const match = /^Content-Length: (\d+)$/.exec(unread.subarray(0, end).toString('latin1'));
        if (!match) { count = Infinity; return; }
        if (unread.length < end + 4 + Number(match[1])) { return; }
        count++;
        unread = unread.subarray(end + 4 + Number(match[1]));
      }
    };
    const answered = () => count;
    const armQuiet = () => {
      if (owed === undefined || plan.end !== 'wait' || writing || closed) { return; }
      clearTimeout(quiet);
      if (breakAt >= payload.length && answered() >= owed) { letItGo(); return; }
      quiet = setTimeout(() => { if (answered() >= owed) { letItGo(); } else { armQuiet(); } }, QUIET_MS);
    };
    socket.on('data', chunk => { chunks.push(chunk); countAnswers(chunk); onProgress(); armQuiet(); });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      onProgress();
      clearTimeout(deadline);
      clearTimeout(quiet);
      observed.closedByBroker = observed.connected && !letGo;
      observed.received = Buffer.concat(chunks);
      resolve(observed);
    });
    const allAnswered = (owing: number) => new Promise<void>(ready => {
      onProgress = () => { if (closed || answered() >= owing) { onProgress = () => {}; ready(); } };
      onProgress();
    });
    socket.on('connect', async () => {
      observed.connected = true;
      for (const [index, { at, part }] of writes.entries()) {
        if (owed !== undefined && (at === helloEnd || at === breakAt)) {
          await allAnswered(at === breakAt ? owed : 1);
        } else if (plan.pause >= 0 && index > 0) {
          await new Promise(next => (plan.pause === 0 ? setImmediate(next) : setTimeout(next, plan.pause)));
        }
        if (closed || !socket.writable) { break; }
        socket.write(part, error => { if (!error) { observed.writtenBytes += part.length; } });
      }
      if (owed !== undefined && breakAt >= payload.length) { await allAnswered(owed); }
      writing = false;
      if (plan.end === 'destroy') { letItGo(); return; }
      if (plan.end === 'end' && !closed) { socket.end(); }
      armQuiet();
    });
  });
}

// ─────────────────────────────── the fuzz run ───────────────────────────────

interface Stats {
  connections: number;
  refused: number;
  refusedWaited: number;
  authenticated: number;
  frames: number;
  /** Frames of authenticated connections the broker answered before any breaker was sent. */
  framesServed: number;
  answers: number;
  tokens: number;
  /** Authenticated connections (not dropped at once by the fuzzer) and those whose owed answers all came. */
  owing: number;
  fullyAnswered: number;
  /** Connections whose first frame merged into a valid handshake's (see firstMessage). */
  indirectHandshakes: number;
}

class FuzzRun {
  readonly stats: Stats = { connections: 0, refused: 0, refusedWaited: 0, authenticated: 0, frames: 0, framesServed: 0, answers: 0, tokens: 0, owing: 0, fullyAnswered: 0, indirectHandshakes: 0 };
  private readonly issued = new Set<string>();
  private issuedSeen = 0;

  constructor(private readonly harness: Harness, private readonly ctx: Context) {}

  async check(plan: Plan): Promise<void> {
    const rendered = plan.frames.map(spec => render(spec, this.ctx));
    const expectation = foresee(rendered, this.ctx);
    const payload = Buffer.concat(rendered.map(frameOut => frameOut.bytes));
    const breakAt = rendered.slice(0, expectation.breakerAt).reduce((sum, frameOut) => sum + frameOut.bytes.length, 0);
    // A connection dropped at once pipelines everything, the handshake's answer not awaited.
    const owing = expectation.authenticated && plan.end !== 'destroy';
    const observed = await drive(this.harness.path, payload, plan, owing ? expectation.owed : undefined, rendered[0].bytes.length, breakAt);
    assert.ok(observed.connected, 'the broker accepts every connection');

    // Frames that went out whole (the broker closes early on most bad ones: the rest are never sent).
    let offset = 0;
    for (const frameOut of rendered) {
      offset += frameOut.bytes.length;
      if (offset <= observed.writtenBytes) { this.stats.frames++; }
    }
    this.stats.connections++;
    const text = observed.received.toString('latin1');
    assert.ok(!text.includes(this.ctx.secret) && !text.includes(this.ctx.oldSecret), 'no secret is ever sent back');

    let helloId = expectation.helloId;
    if (!expectation.authenticated) {
      // A garbage frame can merge with a valid handshake into one frame (an extra header line, say): then
      // the broker's first message is that handshake and it may answer (see firstMessage).
      const first = firstMessage(payload);
      helloId = observed.received.length > 0 && isValidHelloMessage(first, this.ctx) ? classify(first, this.ctx).requestId : undefined;
      if (helloId === undefined) {
        this.stats.refused++;
        assert.equal(observed.received.length, 0, `nothing is answered before a valid handshake; got ${JSON.stringify(redact(text.slice(0, 300)))}`);
        if (plan.end !== 'destroy') {
          assert.ok(observed.closedByBroker, `a connection without a valid handshake is closed within ${DEADLINE_MS} ms`);
        }
        // One its peer half-closed may end unaudited (closed by the peer before the broker decided).
        if (plan.end === 'wait') { this.stats.refusedWaited++; }
        return;
      }
      this.stats.indirectHandshakes++;
    } else {
      this.stats.authenticated++;
    }

    const { messages, tail } = readResponses(observed.received);
    this.stats.answers += messages.length;
    const ids = new Map<string, number>();
    const tokensById = new Map<string, number>();
    let tokens = 0;
    for (const [index, { raw, value }] of messages.entries()) {
      const id = JSON.stringify(value.id);
      ids.set(id, (ids.get(id) ?? 0) + 1);
      assert.ok((ids.get(id) ?? 0) <= (expectation.requests.get(id) ?? 0), `only requests are answered, once each; unexpected answer ${redact(raw).slice(0, 300)}`);
      if (index === 0) {
        assert.equal(id, helloId, `the handshake is answered first, got ${redact(raw).slice(0, 300)}`);
        assert.equal((value.result as { protocolVersion?: number } | undefined)?.protocolVersion, PROTOCOL_VERSION, `the handshake succeeds, got ${redact(raw).slice(0, 300)}`);
      }
      const inRaw = raw.match(JWT)?.length ?? 0;
      if (inRaw === 0) { continue; }
      const accessToken = (value.result as { accessToken?: unknown } | undefined)?.accessToken;
      const scopes = expectation.entitled.get(id) ?? [];
      tokensById.set(id, (tokensById.get(id) ?? 0) + 1);
      assert.ok((tokensById.get(id) ?? 0) <= scopes.length, `a token only answers an entitled token request; got one for id ${id}`);
      assert.ok(typeof accessToken === 'string' && inRaw === 1, 'a token appears only as the accessToken of a result');
      assert.ok(this.wasIssued(accessToken), 'the token is one the handlers issued');
      assert.ok(scopes.includes(readFakeToken(accessToken)?.scp as string), 'the token carries the scopes that were asked for');
      tokens++;
    }
    this.stats.tokens += tokens;
    assert.ok(!(tail.toString('latin1').match(JWT)), 'no token in an unfinished frame');
    assert.equal(text.match(JWT)?.length ?? 0, tokens, 'no token anywhere else in the output');

    if (plan.end === 'end') {
      assert.ok(observed.closedByBroker || messages.length < expectation.owed, 'the broker closes a connection its peer has half-closed');
    }
    if (!owing || !expectation.authenticated) { return; }
    // Before the first bad frame is even sent, every request must be answered: only a capacity
    // refusal or a frame split across a stalled event loop (the partial-frame timeout) excuses a close.
    this.stats.owing++;
    if (messages.length >= expectation.owed) {
      this.stats.fullyAnswered++;
      this.stats.framesServed += expectation.breakerAt;
    }
    assert.ok(messages.length >= expectation.owed || observed.closedByBroker,
      `the broker answers all ${expectation.owed} requests sent before any bad frame (answered ${messages.length} in ${DEADLINE_MS} ms)`);
  }

  private wasIssued(token: string): boolean {
    for (; this.issuedSeen < this.harness.issued.length; this.issuedSeen++) { this.issued.add(this.harness.issued[this.issuedSeen]); }
    return this.issued.has(token);
  }
}

describe('broker protocol fuzzing', () => {
  it(`survives ${TARGET_FRAMES} random, truncated, oversized, out-of-order and wrong-secret frames while serving a valid client`, async function () {
    const timeoutMs = Math.max(120_000, TARGET_FRAMES * 2);
    this.timeout(timeoutMs);
    const started = Date.now();
    // Shrinking a failure stops in time for fast-check to report it before mocha gives up.
    const shrinkUntil = started + timeoutMs - 15_000;
    const crashes: string[] = [];
    const onCrash = (error: unknown) => { crashes.push(String(error instanceof Error ? error.stack : error)); };
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);

    const earlier = await startBroker();
    const oldSecret = earlier.secret;
    await earlier.broker.stop();

    const disallowed = (name: string, requested: readonly string[]) => new ScopeAllowList(allowedScopesFor(name, [], { allowWrites: true, enabledTools: [] })).disallowed(requested);
    const harness = await startBroker({
      limits: { maxFrameBytes: MAX_FRAME_BYTES, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxConnections: LANES + 16 },
      handlers: { disallowedScopes: disallowed },
    });
    const ctx: Context = { secret: harness.secret, oldSecret, disallowed };
    const valid = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: 'fuzz' });
    let stopValid = false;
    let validLoops: Array<Promise<void>> = [];
    const validCalls = { ok: 0, failed: [] as string[] };
    try {
      assert.ok(await valid.warmUp(), 'the valid client connects before the fuzzing starts');
      validLoops = [0, 1].map(async () => {
        while (!stopValid) {
          try {
            const token = await valid.getToken('get_my_profile', ['User.Read']);
            assert.equal(readFakeToken(token.accessToken)?.scp, 'User.Read');
            validCalls.ok++;
          } catch (error) {
            validCalls.failed.push(String(error));
          }
          await sleep(2); // steady traffic, not a second load generator
        }
      });

      const run = new FuzzRun(harness, ctx);
      let failingLane: number | undefined;
      const lane = async (index: number, seed: number, numRuns: number, path?: string) => {
        const property = fc.asyncProperty(planArb, async value => {
          if (failingLane !== undefined && failingLane !== index) { return; }
          try {
            await run.check(value);
          } catch (error) {
            failingLane ??= index;
            throw error;
          }
        });
        try {
          await fc.assert(property, path === undefined
            ? { seed, numRuns, includeErrorInReport: true, plugins: [fc.interruptAfterTimeLimit(Math.max(1_000, shrinkUntil - Date.now()))] }
            : { seed, path, endOnFailure: true, includeErrorInReport: true });
        } catch (error) {
          throw new Error(`broker fuzz failed (ENTRA_MCP_FUZZ_SEED=${BASE_SEED}, lane ${index}); replay with ENTRA_MCP_FUZZ_REPLAY=<seed>:<path> from below\n${(error as Error).message}`);
        }
      };
      // The lane that failed first is the one that shrank its counterexample: report that one.
      const settle = async (lanes: Array<Promise<void>>) => {
        const failures = (await Promise.allSettled(lanes)).flatMap((result, index) => (result.status === 'rejected' ? [{ index, reason: result.reason as unknown }] : []));
        if (failures.length > 0) { throw (failures.find(failure => failure.index === failingLane) ?? failures[0]).reason; }
      };

      if (REPLAY) {
        await settle([lane(0, REPLAY.seed, 1, REPLAY.path)]);
      } else {
        // Runs per lane from the frames a connection writes on average (first estimated, then measured).
        const sampled = fc.sample(planArb, { numRuns: 300, seed: BASE_SEED });
        let perConnection = sampled.reduce((sum, value) => sum + value.frames.length, 0) / sampled.length;
        for (let round = 0; run.stats.frames < TARGET_FRAMES && round < 10; round++) {
          const runs = Math.max(1, Math.ceil((TARGET_FRAMES - run.stats.frames) / perConnection / LANES * 1.05));
          await settle(Array.from({ length: LANES }, (_, index) => lane(index, (BASE_SEED + 7919 * (round * LANES + index + 1)) | 0, runs)));
          perConnection = Math.max(1, run.stats.frames / run.stats.connections);
        }
      }

      stopValid = true;
      await Promise.all(validLoops);
      const { stats } = run;
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`      fuzz: ${stats.frames} frames on ${stats.connections} connections, ${validCalls.ok} valid-client calls, ${elapsed} s (seed ${BASE_SEED}; ` +
        `${stats.refused} connections refused, ${stats.authenticated} authenticated, ${stats.indirectHandshakes} handshakes merged with a garbage frame; ` +
        `${stats.framesServed} frames served before a breaker, ${stats.answers} answers, ${stats.tokens} tokens to entitled requests)`);

      assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
      if (!REPLAY) { assert.ok(stats.frames >= TARGET_FRAMES, `wrote ${stats.frames} frames, fewer than the ${TARGET_FRAMES} asked for`); }
      assert.deepEqual(validCalls.failed, [], 'every call of the valid client succeeded');
      assert.ok(validCalls.ok >= (REPLAY ? 1 : 50), `the valid client kept being served (${validCalls.ok} calls)`);
      const validHandshakes = harness.audit.filter(event => event.event === 'handshake' && event.outcome === 'ok' && event.detail?.startsWith('entra-mcp-server fuzz ')).length;
      assert.equal(validHandshakes, 1, 'the valid client kept its one connection throughout');

      // Every connection refused before (or at) its handshake is audited; some authenticated ones add to the count.
      const refusedAudits = harness.audit.filter(event => event.event === 'connection' && event.outcome === 'refused').length;
      assert.ok(refusedAudits >= stats.refusedWaited, `${refusedAudits} refused connections audited, fewer than the ${stats.refusedWaited} refused`);
      const excused = harness.audit.filter(event => event.detail === 'too many connections' || event.detail === 'incomplete frame timed out').length;
      assert.ok(stats.owing - stats.fullyAnswered <= excused, `${stats.owing - stats.fullyAnswered} authenticated connections closed before their answers, more than the ${excused} capacity refusals and frame timeouts`);
      assert.ok(stats.fullyAnswered >= stats.owing * 0.95, `authenticated connections are served (${stats.fullyAnswered} of ${stats.owing} fully answered)`);

      // Nothing left half-open, and a new client is still served.
      for (let waited = 0; harness.broker.connectionCount > 1 && waited < 3000; waited += 50) { await sleep(50); }
      assert.equal(harness.broker.connectionCount, 1, 'only the valid client is still connected');
      const after = new BrokerClient({ path: harness.path, secret: harness.secret, clientVersion: 'after-fuzz', connectAttempts: 1 });
      try {
        const token = await after.getToken('find_people', ['People.Read']);
        assert.ok(harness.issued.includes(token.accessToken), 'a new connection is still served after the fuzzing');
      } finally {
        after.dispose();
      }
    } finally {
      stopValid = true;
      await Promise.allSettled(validLoops);
      valid.dispose();
      await harness.broker.stop();
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
  });
});

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function parseReplay(value: string | undefined): { seed: number; path: string } | undefined {
  const match = value ? /^(-?\d+):([\d:]+)$/.exec(value.trim()) : null;
  return match ? { seed: Number(match[1]), path: match[2] } : undefined;
}

/** Failure messages quote broker output: never a token or a secret (the unit run's leak scan reads them too). */
function redact(text: string): string {
  return redactCredentials(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
