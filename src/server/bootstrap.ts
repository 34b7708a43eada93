/**
 * Entry point of the bundled MCP server (dist/server.js), started by VS Code over stdio.
 *
 * Start-up is what users wait for each time a window opens, and most of it is loading the MCP
 * SDK, zod and the tools. So this small entry answers `initialize` and `tools/list` from the
 * build-time manifest, then loads the full server (dist/server-main.js) and hands stdin over to
 * the SDK. If the manifest is missing or from another build, the SDK answers everything.
 */
import { readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { ENV } from '../shared/env';
import { isBridgeMode, readBridgeConfig } from './bridge/bridgeConfig';
import { ServerConfig, readServerConfig } from './config';
import { EarlyResponder, JsonRpcRequestLike } from './startup/earlyResponder';
import { MANIFEST_FILE, StartupManifest } from './startup/manifest';
import type { Handoff } from './main';

declare const SERVER_VERSION: string | undefined;
const version = typeof SERVER_VERSION === 'string' ? SERVER_VERSION : '0.0.0-dev';

/** The full server, bundled separately so this file stays small. */
const MAIN_BUNDLE = 'server-main.js';
/** Load the SDK this long after start even if the client is quiet, so the first tool call is fast. */
const IDLE_HANDOFF_MS = 150;
/** Past this much unread input, stop looking and let the SDK (and its limits) take over. */
const MAX_EARLY_BYTES = 1024 * 1024;

type CompileCacheModule = { enableCompileCache?: (dir?: string) => unknown; flushCompileCache?: () => void };

function start(): void {
  if (isBridgeMode(process.env)) {
    startBridge();
    return;
  }
  let config: ServerConfig;
  try {
    config = readServerConfig(process.env);
  } catch (error) {
    fail(error);
    return;
  }
  enableCompileCache();
  const responder = loadResponder(config);
  let unread: Buffer = Buffer.alloc(0);
  let handedOff = false;
  const idleTimer = setTimeout(() => handOff(), IDLE_HANDOFF_MS);

  const onData = (chunk: Buffer) => {
    unread = unread.length ? Buffer.concat([unread, chunk]) : chunk;
    const { consumed, listed, stuck } = answerEarly(responder, unread);
    unread = unread.subarray(consumed);
    if (listed || stuck || unread.length > MAX_EARLY_BYTES) { setImmediate(handOff); }
  };
  // The client closed stdin. Everything it sent was answered here, or the SDK answers the rest
  // (and exits once it has): a request written just before closing is not dropped.
  const onEnd = () => {
    if (!unread.length) { process.exit(0); }
    handOff();
  };
  process.stdin.on('data', onData);
  process.stdin.on('end', onEnd);

  function handOff(): void {
    if (handedOff) { return; }
    handedOff = true;
    clearTimeout(idleTimer);
    process.stdin.off('data', onData);
    process.stdin.off('end', onEnd);
    const ended = process.stdin.readableEnded;
    process.stdin.pause();
    // Bytes not answered here are given back: the SDK's transport reads them first (from a
    // stream of their own once stdin has ended, when they cannot be put back).
    if (unread.length && !ended) { process.stdin.unshift(unread); }
    const handoff: Handoff = {
      config, version,
      replay: responder ? [responder.initializeRequest, responder.initializedNotification].filter(isDefined) : [],
      ...(ended ? { endedInput: unread } : {}),
    };
    loadMain().runServer(handoff).then(() => {
      // Persist compiled code now: the server is usually ended by a signal, when Node would not.
      setImmediate(() => (nodeModule as CompileCacheModule).flushCompileCache?.());
    }, fail);
  }
}

/**
 * Bridge mode: the tools are the remote server's, unknown until it is asked, so there is no
 * manifest to answer from; the SDK takes stdin from the start.
 */
function startBridge(): void {
  try {
    const config = readBridgeConfig(process.env);
    enableCompileCache();
    loadMain().runBridge(config, version).catch(fail);
  } catch (error) {
    fail(error);
  }
}

function loadMain(): typeof import('./main') {
  return nodeModule.createRequire(__filename)(join(__dirname, MAIN_BUNDLE)) as typeof import('./main');
}

/** Node ≥ 22 keeps V8's compiled code between starts; the cache lives in the extension's storage. */
function enableCompileCache(): void {
  const cacheDir = process.env[ENV.compileCache];
  if (cacheDir) { (nodeModule as CompileCacheModule).enableCompileCache?.(cacheDir); }
}

/**
 * Answers complete lines at the start of `input` while the responder can. Returns the bytes
 * consumed, whether `tools/list` was answered, and whether a line needs the SDK.
 */
function answerEarly(responder: EarlyResponder | undefined, input: Buffer): { consumed: number; listed: boolean; stuck: boolean } {
  let consumed = 0;
  let listed = false;
  if (!responder) { return { consumed, listed, stuck: true }; }
  for (let end = input.indexOf(10); end !== -1; end = input.indexOf(10, consumed)) {
    const message = parseLine(input.toString('utf8', consumed, end));
    const answer = message && responder.answer(message);
    if (!answer) { return { consumed, listed, stuck: true }; }
    if (answer !== true) {
      process.stdout.write(`${JSON.stringify(answer)}\n`);
      listed ||= message.method === 'tools/list';
    }
    consumed = end + 1;
  }
  return { consumed, listed, stuck: false };
}

function parseLine(line: string): JsonRpcRequestLike | undefined {
  try {
    const value: unknown = JSON.parse(line.replace(/\r$/, ''));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as JsonRpcRequestLike : undefined;
  } catch {
    return undefined;
  }
}

function loadResponder(config: ServerConfig): EarlyResponder | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(__dirname, MANIFEST_FILE), 'utf8')) as StartupManifest;
    return manifest.version === version ? new EarlyResponder(manifest, config.tools) : undefined;
  } catch {
    return undefined;
  }
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

function fail(error: unknown): void {
  process.stderr.write(`[entra-mcp] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

start();
