// Helpers shared by the benchmarks: interleaved measurement, statistics, tables with ratios,
// the machine description, and spawning MCP servers (ours and the peers) up to `tools/list`.
// Absolute times on shared machines are noise; every script compares contestants measured in
// the same run, interleaved, and prints ratios.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
export const PEERS_DIR = join(ROOT, 'bench', 'peers');

/** The first command-line argument as a count, or the default. */
export function countFromArgv(fallback, index = 2) {
  const value = Number(process.argv[index]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = values => percentile(values, 50);

export const formatMs = value => (value === undefined ? 'n/a' : `${value.toFixed(value < 1 ? 3 : value < 100 ? 2 : 1)} ms`);
export const formatRatio = value => (Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a');
export const formatMiB = bytes => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
export const formatKiB = bytes => (bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(0)} KiB`);
export const verdict = met => (met ? 'met' : 'MISSED');

/** Prints rows as an aligned table; the first row is the header. */
export function printTable(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => String(row[column]).length)));
  const line = row => row.map((cell, column) => String(cell).padEnd(widths[column])).join('  ').trimEnd();
  console.log(line(rows[0]));
  console.log(widths.map(width => '-'.repeat(width)).join('  '));
  for (const row of rows.slice(1)) { console.log(line(row)); }
}

/** Prints "target: description … met/MISSED" lines. */
export function printTargets(targets) {
  console.log('\nTargets:');
  for (const { description, met } of targets) { console.log(`  ${verdict(met).padEnd(6)}  ${description}`); }
}

// ---------------------------------------------------------------------------------------------
// Measuring

/**
 * Runs every contestant once per round, rotating who goes first so that warm caches and
 * machine noise hit all of them alike. `measure` returns one sample or an array of samples.
 * A contestant that throws is reported and left out of later rounds instead of stopping the run.
 */
export async function interleave(contestants, rounds, { warmupRounds = 1 } = {}) {
  const samples = new Map(contestants.map(({ name }) => [name, []]));
  const failures = new Map();
  for (let round = -warmupRounds; round < rounds; round++) {
    const offset = ((round % contestants.length) + contestants.length) % contestants.length;
    const order = [...contestants.slice(offset), ...contestants.slice(0, offset)];
    for (const { name, measure } of order) {
      if (failures.has(name)) { continue; }
      try {
        const result = await measure();
        if (round >= 0) { samples.get(name).push(...[result].flat()); }
      } catch (error) {
        failures.set(name, error instanceof Error ? error.message : String(error));
      }
    }
  }
  return { samples, failures };
}

/** Median per contestant that has samples; of `field` when samples are objects. */
export function mediansOf(samples, field) {
  return new Map([...samples]
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => [name, median(field ? values.map(value => value[field]) : values)]));
}

/** The "× bare node" and "÷ ours" cells of a table row. */
export function ratioCells(value, bare, ours, isBare) {
  return [formatRatio(value / bare), isBare ? '-' : formatRatio(value / ours)];
}

export function printFailures(failures) {
  for (const [name, message] of failures) { console.log(`\n${name} FAILED: ${message}`); }
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Latency in ms of each of `count` requests made one after the other. */
export async function sequentialLatencies(request, count) {
  const latencies = new Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await request();
    latencies[i] = performance.now() - started;
  }
  return latencies;
}

/** Requests per second when `total` requests are made keeping `inFlight` of them outstanding. */
export async function concurrentThroughput(request, total, inFlight) {
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      issued++;
      await request();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / ((performance.now() - started) / 1000);
}

/** p50, p99, max and sequential throughput of latency samples, formatted for a table row. */
export function latencyColumns(latencies) {
  const total = latencies.reduce((sum, value) => sum + value, 0);
  return [formatMs(percentile(latencies, 50)), formatMs(percentile(latencies, 99)), formatMs(Math.max(...latencies)), formatRate(latencies.length / (total / 1000))];
}

export const formatRate = perSecond => `${Math.round(perSecond).toLocaleString('en-US')}/s`;

// ---------------------------------------------------------------------------------------------
// The machine and the build measured

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    ramGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    os: `${osName()} (${os.type()} ${os.release()}, ${os.arch()})`,
    node: process.version,
    commit: gitCommit(),
  };
}

function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

/** The commit measured, flagged when tracked files outside bench/ differ from it (bench/ itself is not what is measured). */
function gitCommit() {
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench');
    return `${git('rev-parse', '--short=7', 'HEAD')}${changed ? ' +uncommitted changes outside bench/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** Prints what was measured, where, and how to reproduce it. */
export function printHeader(title, reproduce) {
  const machine = machineInfo();
  console.log(`# ${title}`);
  console.log(`reproduce: ${reproduce}`);
  console.log(`machine:   ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.os}`);
  console.log(`node:      ${machine.node} (this binary runs every contestant)`);
  console.log(`commit:    ${machine.commit}\n`);
}

/**
 * The fakes' certificates are signed by the tests' CA, trusted the way a corporate CA is.
 * NODE_EXTRA_CA_CERTS is only read at start-up, so without it the script runs itself again with
 * it; a machine's own extra CAs (a registry behind a corporate proxy) stay trusted alongside.
 */
export function trustTestCa(scriptUrl) {
  if (process.env.BENCH_TEST_CA_TRUSTED) { return; }
  const testCa = readFileSync(join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem'), 'utf8');
  const own = process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS) ? readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8') : '';
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-ca-'));
  const bundle = join(dir, 'ca.pem');
  writeFileSync(bundle, `${own}\n${testCa}`);
  const rerun = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(scriptUrl), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle, BENCH_TEST_CA_TRUSTED: '1' } });
  rmSync(dir, { recursive: true, force: true });
  process.exit(rerun.status ?? 1);
}

/** CommonJS modules compiled by `tsc -p .` into out/ (the tests' output), e.g. `compiled('src/server/brokerClient')`. */
export function compiled(modulePath) {
  const file = join(ROOT, 'out', `${modulePath}.js`);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`npx tsc -p .\` first.`);
  }
  return createRequire(import.meta.url)(file);
}

export function requireBuilt(file, command) {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run \`${command}\` first.`);
  }
  return file;
}

/**
 * Forks bench/brokerHost.mjs (the extension host's stand-in: real broker, bare echo, optionally the
 * fake Graph) and resolves with its addresses and a stop function.
 */
export function startBrokerHost({ fakeGraph = false } = {}) {
  const child = fork(join(ROOT, 'bench', 'brokerHost.mjs'), fakeGraph ? ['--fake-graph'] : [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`bench/brokerHost.mjs exited (code ${code}) before it was ready`)));
    child.once('message', addresses => resolve({
      ...addresses,
      stop: () => new Promise(done => { child.once('exit', done); child.disconnect(); }),
    }));
  });
}

// ---------------------------------------------------------------------------------------------
// MCP servers over stdio

/** The environment our server needs to start: the broker need not exist until a tool runs. */
export function serverEnv(overrides = {}) {
  return {
    ...process.env,
    ENTRA_MCP_BROKER: join(os.tmpdir(), 'entra-mcp-bench-no-broker.sock'),
    ENTRA_MCP_BROKER_SECRET: '0'.repeat(64),
    ENTRA_MCP_GRAPH_ENDPOINT: 'https://graph.microsoft.com',
    ENTRA_MCP_ARM_ENDPOINT: 'https://management.azure.com',
    ...overrides,
  };
}

const INITIALIZE = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'entra-mcp-bench', version: '1' },
};

/**
 * Spawns an MCP server and speaks newline-delimited JSON-RPC over its stdio as a client does:
 * `initialize`, then (after its answer) `notifications/initialized` and `tools/list`.
 * Resolves with the time from spawn to the `tools/list` answer (`ms`) and the number of tools;
 * then sends a `ping` and adds the time to its answer (`pingMs`): a server that answers the first
 * requests early (ours, from a build-time manifest) has loaded everything only by then. Rejects,
 * naming the cause and the end of stderr, if the server exits, answers with an error or stays
 * silent past the timeout. With `keepRunning` the child is returned alive; otherwise it is
 * stopped (and waited for) before resolving, so it cannot disturb the next measurement.
 */
export function spawnMcpToToolsList(command, args, env, { cwd, timeoutMs = 20_000, keepRunning = false } = {}) {
  const started = performance.now();
  const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const send = message => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  let stderr = '';
  child.stderr.on('data', chunk => { stderr = (stderr + chunk).slice(-2_000); });
  child.stdin.on('error', () => undefined);
  send({ id: 1, method: 'initialize', params: INITIALIZE });
  return new Promise((resolve, reject) => {
    let settled = false;
    let listed;
    const settle = async (outcome, value) => {
      if (settled) { return; }
      settled = true;
      clearTimeout(timer);
      if (outcome === 'fail') {
        await stopChild(child);
        const detail = stderr.trim() ? `\n  stderr: ${stderr.trim().split('\n').slice(-5).join('\n          ')}` : '';
        reject(new Error(`${value}${detail}`));
      } else {
        if (!keepRunning) { await stopChild(child); }
        resolve({ ...value, child });
      }
    };
    const waitingFor = () => (listed ? 'ping' : 'tools/list');
    const timer = setTimeout(() => void settle('fail', `no ${waitingFor()} answer within ${timeoutMs} ms`), timeoutMs);
    child.on('error', error => void settle('fail', `could not start: ${error.message}`));
    child.on('exit', (code, signal) => void settle('fail', `exited (${signal ?? `code ${code}`}) before answering ${waitingFor()}`));
    onJsonLines(child.stdout, message => {
      if (message.error) {
        void settle('fail', `answered ${['initialize', 'tools/list', 'ping'][message.id - 1]} with error ${JSON.stringify(message.error)}`);
      } else if (message.id === 1) {
        send({ method: 'notifications/initialized' });
        send({ id: 2, method: 'tools/list' });
      } else if (message.id === 2) {
        listed = { ms: performance.now() - started, toolCount: message.result?.tools?.length ?? 0 };
        send({ id: 3, method: 'ping' });
      } else if (message.id === 3) {
        void settle('ok', { ...listed, pingMs: performance.now() - started });
      }
    });
  });
}

/** Calls `onMessage` for each JSON line of a stream; other lines (a stray log) are skipped. */
function onJsonLines(stream, onMessage) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', chunk => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop();
    for (const line of lines) {
      let message;
      try { message = JSON.parse(line); } catch { continue; }
      onMessage(message);
    }
  });
}

/**
 * Ends a child as MCP clients end stdio servers (close stdin, then SIGTERM, then SIGKILL) and
 * resolves once it has exited. A clean exit also lets node write its compile cache, as it would
 * when VS Code closes the server.
 */
export async function stopChild(child) {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise(resolve => child.once('exit', resolve));
  const exitsWithin = ms => Promise.race([exited.then(() => true), new Promise(resolve => setTimeout(resolve, ms, false).unref())]);
  if (child.stdin) {
    child.stdin.end();
    if (await exitsWithin(2_000)) { return; }
  }
  child.kill('SIGTERM');
  if (await exitsWithin(1_000)) { return; }
  child.kill('SIGKILL');
  await exited;
}

/** Time from spawn to exit of a bare `node -e ""`: the floor any node-based server starts from. */
export function bareNodeExit() {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
      .on('error', reject)
      .on('exit', () => resolve(performance.now() - started));
  });
}

/** Resident set size of a live process in bytes, from /proc (Linux); undefined elsewhere. */
export function measureIdleRss(pid) {
  try {
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Peers: other Microsoft 365 MCP servers, installed from npm into bench/peers (git-ignored)

export const PEER_PACKAGES = ['@merill/lokka', '@softeria/ms-365-mcp-server'];

/** Installs the peers' latest releases into bench/peers unless present; returns their versions. */
export function ensurePeers() {
  const missing = PEER_PACKAGES.filter(name => !existsSync(peerPackageJson(name)));
  if (missing.length > 0) {
    const manifest = join(PEERS_DIR, 'package.json');
    if (!existsSync(manifest)) {
      mkdirSync(PEERS_DIR, { recursive: true });
      writeFileSync(manifest, `${JSON.stringify({ private: true }, null, 2)}\n`);
    }
    console.log(`Installing ${missing.join(', ')} into bench/peers …`);
    execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', ...missing.map(name => `${name}@latest`)],
      { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
  }
  return Object.fromEntries(PEER_PACKAGES.map(name => [name, JSON.parse(readFileSync(peerPackageJson(name), 'utf8')).version]));
}

export const peerPackageDir = name => join(PEERS_DIR, 'node_modules', ...name.split('/'));
const peerPackageJson = name => join(peerPackageDir(name), 'package.json');

/** A fresh empty directory, removed at exit: HOME, config and log dirs of the peers. */
export function scratchDir(prefix) {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
