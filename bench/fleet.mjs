// The remote server as a fleet, as the fleet tests start it: Debian's redis-server, three replicas
// of dist/remote.js sharing it, and nginx in front, with the fake Entra ID and the fake Graph
// (bench/fleetHost.mjs). Against, behind the same nginx configuration (one nginx per contestant):
// three bare node:http JSON-RPC echoes (bench/remoteHost.mjs echo), the floor; and three of the
// peer @softeria/ms-365-mcp-server in its HTTP mode, calling the same fake Graph.
//   1. latency of warm `tools/call` through the balancer, sequential, kept-alive connection;
//   2. requests per second with 32 in flight, and the serving side's CPU per request;
//   3. how cost grows: On-Behalf-Of exchanges and Redis commands per tool call (warm, and a new
//      user's first), memory per 1,000 users (replicas' RSS, Redis's used_memory).
// With `taskset` and two cores, everything serving (Redis, nginx, replicas, echoes, peers) runs on
// CPU 0 and this load generator and the fakes on CPU 1: requests per second are those of one core.
// BENCH_COMPARE=<another build's remote.js> adds a second fleet of that build (its own nginx and
// Redis prefix, the same Redis and fakes) beside ours, in the same turns: a change measured side
// by side, not across runs of a machine whose speed drifts.
//   node esbuild.mjs --production && npx tsc -p . && node bench/fleet.mjs [calls=1000] [requests=1500] [users=1000]
import { fork, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  ROOT, compiled, concurrentThroughput, countFromArgv, ensurePeers, formatKiB, formatMiB, formatMs, formatRate, formatRatio, interleave,
  latencyColumns, mediansOf, peerPackageDir, percentile, printFailures, printHeader, printTable, printTargets, requireBuilt,
  scratchDir, sequentialLatencies, sleep, trustTestCa,
} from './lib.mjs';

// The replicas, the fakes and the peer trust the fakes' test CA.
trustTestCa(import.meta.url);

const CALLS = countFromArgv(1_000, 2);
const REQUESTS = countFromArgv(1_500, 3);
const NEW_USERS = countFromArgv(1_000, 4);
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 3);
const WARM_USERS = 32;
// Calls through each path before anything is measured: enough for every replica's hot code to be
// optimized (a few hundred calls a replica left p50 visibly higher with 3 replicas than with 1).
const WARM_CALLS = Number(process.env.BENCH_WARM ?? 1_000 * REPLICAS);
const IN_FLIGHT = 32;
const LATENCY_BLOCK = 100;
const THROUGHPUT_ROUNDS = 3;
// The peer answers an order of magnitude slower than the others: it gets smaller blocks and rounds
// (the same number of them, in the same turns) so the run stays short.
const PEER_SHARE = 1 / 8;
const SERVER_CPU = 0;
const CLIENT_CPU = 1;
const PREFIX = 'bench-fleet:';
// The limiter stays on (the default is 120 a minute per user), so its Redis traffic is part of
// what is measured, with a ceiling no benchmark user reaches.
const RATE_LIMIT = process.env.BENCH_RATE_LIMIT ?? '100000';
const COMPARE = process.env.BENCH_COMPARE;
const PEER = '@softeria/ms-365-mcp-server';

const callOf = name => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } });
const upnOf = index => `user${index}@contoso.com`;

// ---------------------------------------------------------------------------------------------
// Processes: every child is registered here and stopped at exit, however the run ends.

const stops = [];
async function stopEverything() {
  while (stops.length > 0) {
    await stops.pop()().catch(() => undefined);
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { void stopEverything().then(() => process.exit(130)); });
}

/** Pinning needs taskset and a second core for the load generator; otherwise everything shares. */
function canPin() {
  return process.env.BENCH_PIN !== 'off' && os.cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** This process and its threads onto one CPU; children started from now on inherit it. */
function pinSelf(cpu) {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  if (result.status !== 0) { throw new Error(`taskset could not pin this process to CPU ${cpu}`); }
}

/** Runs `start` with this process on `cpu` (when pinning), so what it spawns lands there. */
async function startedOn(cpu, pin, start) {
  if (pin) { pinSelf(cpu); }
  try { return await start(); } finally { if (pin) { pinSelf(CLIENT_CPU); } }
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
async function terminate(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) { return; }
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) { return; }
  child.kill('SIGKILL');
  await exited;
}

/** Keeps the end of a child's stderr for a failure message; the rest is read and dropped. */
function stderrTail(child) {
  let tail = '';
  child.stderr.on('data', chunk => { tail = (tail + chunk).slice(-2_000); });
  return () => tail.trim();
}

/** Polls `url` until it answers 200; fails early if the child exits. */
async function waitForHttp(url, child, what, tail, timeoutMs = 20_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) { throw new Error(`${what} exited before it was ready\n  stderr: ${tail()}`); }
    if (await fetch(url).then(response => response.status === 200, () => false)) { return; }
    await sleep(50);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms\n  stderr: ${tail()}`);
}

/** bench/fleetHost.mjs: the fakes, asked questions over IPC. */
async function startFakes() {
  const child = fork(join(ROOT, 'bench', 'fleetHost.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  stops.push(() => new Promise(resolve => { child.once('exit', resolve); child.disconnect(); }));
  const report = await new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`bench/fleetHost.mjs exited (code ${code}) before it was ready`)));
    child.once('message', resolve);
  });
  // One listener answers every question by id, however many are outstanding.
  const pending = new Map();
  child.on('message', ({ id, answer, error }) => {
    const settle = pending.get(id);
    pending.delete(id);
    settle?.(error, answer);
  });
  let nextId = 0;
  const ask = question => new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, (error, answer) => (error ? reject(new Error(error)) : resolve(answer)));
    child.send({ id, question });
  });
  return { ...report, pid: child.pid, ask };
}

/** Three replicas of dist/remote.js sharing Redis, configured as an operator configures a fleet. */
async function startReplicas(fakes, redisUrl, publicUrl, freePort, remote = requireBuilt(join(ROOT, 'dist', 'remote.js'), 'node esbuild.mjs --production'), prefix = PREFIX) {
  const encryptionKey = randomBytes(32).toString('base64');
  return Promise.all(Array.from({ length: REPLICAS }, async () => {
    const port = await freePort();
    // Audit lines (stdout) go to /dev/null: writing them is part of the replica's cost, reading them is not ours.
    const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), remote], {
      env: {
        ...process.env, ...fakes.env, ENTRA_MCP_PORT: String(port), ENTRA_MCP_TRUST_PROXY: 'true', ENTRA_MCP_PUBLIC_URL: publicUrl,
        ENTRA_MCP_REDIS_URL: redisUrl, ENTRA_MCP_REDIS_PREFIX: prefix, ENTRA_MCP_TOKEN_ENCRYPTION_KEY: encryptionKey, ENTRA_MCP_RATE_LIMIT: RATE_LIMIT,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    stops.push(() => terminate(child));
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, child, `replica on port ${port}`, stderrTail(child));
    return { port, pid: child.pid };
  }));
}

/**
 * Three of bench/remoteHost.mjs in `role`: `echo` reads the JSON-RPC body and answers a result;
 * `trips` makes a tool call's round trips (Redis, the fake Graph) and does none of its work.
 */
function startHosts(role, env = {}) {
  return Promise.all(Array.from({ length: REPLICAS }, () => {
    const child = fork(join(ROOT, 'bench', 'remoteHost.mjs'), [role], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    stops.push(() => new Promise(resolve => { child.once('exit', resolve); child.disconnect(); }));
    return new Promise((resolve, reject) => {
      child.once('exit', code => reject(new Error(`bench/remoteHost.mjs ${role} exited (code ${code}) before it was ready`)));
      child.once('message', ({ port }) => resolve({ port, pid: child.pid }));
    });
  }));
}

/**
 * Three of the peer in HTTP mode (`--http`), its own rate limit off, in an empty HOME, log dir and
 * working directory. Its Graph base URL is fixed, so bench/peerGraphRedirect.mjs (preloaded) sends
 * its Graph calls to the fake Graph.
 */
async function startPeers(fakes, freePort) {
  const entry = join(peerPackageDir(PEER), 'dist', 'index.js');
  const home = scratchDir('entra-mcp-bench-peer-');
  return Promise.all(Array.from({ length: REPLICAS }, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', join(ROOT, 'bench', 'peerGraphRedirect.mjs'), entry, '--http', `127.0.0.1:${port}`], {
      cwd: home,
      env: {
        PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS, HOME: home, XDG_CONFIG_HOME: home, MS365_MCP_LOG_DIR: home,
        MS365_MCP_RATE_LIMIT_DISABLED: 'true', BENCH_GRAPH_ENDPOINT: fakes.graphEndpoint,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    stops.push(() => terminate(child));
    await waitForHttp(`http://127.0.0.1:${port}/`, child, `${PEER} on port ${port}`, stderrTail(child));
    return { port, pid: child.pid };
  }));
}

/**
 * nginx (the tests' configuration) in front of `backends`, stopped at exit. Its processes are
 * looked up when asked for: the worker may not have been forked yet when the port first answers.
 */
async function balance(backends, listenPort) {
  const { startLoadBalancer } = compiled('test/helpers/loadBalancer');
  const balancer = await startLoadBalancer(backends.map(backend => backend.port), listenPort);
  stops.push(() => balancer.stop());
  return { port: balancer.port, pids: () => nginxPids(balancer.port) };
}

// ---------------------------------------------------------------------------------------------
// /proc: CPU time and memory of the serving processes

/** pid, command name and parent of every process. */
function processTable() {
  return readdirSync('/proc').filter(name => /^\d+$/.test(name)).flatMap(pid => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return [{ pid: Number(pid), comm, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) }];
    } catch {
      return [];
    }
  });
}

/** The nginx master started by this process that listens on `port`, and its worker: the balancer's CPU. */
function nginxPids(port) {
  const table = processTable();
  const master = table.find(({ pid, comm, ppid }) => comm === 'nginx' && ppid === process.pid && nginxListensOn(pid, port));
  return master ? [master.pid, ...table.filter(({ ppid }) => ppid === master.pid).map(({ pid }) => pid)] : [];
}

function nginxListensOn(pid, port) {
  try {
    // nginx rewrites its command line into a title ("nginx: master process … -c <conf>").
    const conf = /-c\s+(\S+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))?.[1];
    return conf !== undefined && readFileSync(conf, 'utf8').includes(`listen 127.0.0.1:${port};`);
  } catch {
    return false;
  }
}

/** User + system CPU ms of the processes so far (stat(5) fields 14 and 15, 100 ticks a second); undefined if one is unreadable. */
function cpuMsOf(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  }
  return total;
}

/** Sum of VmRSS of the processes, in bytes. */
function rssOf(pids) {
  return pids.reduce((sum, pid) => sum + Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024, 0);
}

// ---------------------------------------------------------------------------------------------
// Redis, read from outside the fleet

/** Calls per command so far (INFO commandstats), leaving out INFO itself: this script's own reads. */
async function commandCounts(redis) {
  const counts = new Map();
  for (const [, name, calls] of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name !== 'info') { counts.set(name, Number(calls)); }
  }
  return counts;
}

function countsBetween(before, after) {
  return new Map([...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0)]).filter(([, calls]) => calls > 0));
}

const sumOf = counts => [...counts.values()].reduce((sum, calls) => sum + calls, 0);

async function infoField(redis, section, field) {
  return Number(new RegExp(`^${field}:(\\S+)`, 'm').exec(await redis.info(section))?.[1]);
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * A JSON-RPC POST to `port`'s /mcp as a Streamable HTTP client sends it, over kept-alive
 * connections, each request with the next of `tokens` (the callers take turns); the answer is read
 * whole and parsed, and anything but a result (an HTTP error, a JSON-RPC error, a tool error) throws.
 */
function mcpPoster(port, message, tokens, retries) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = JSON.stringify(message);
  let turn = 0;
  const post = token => new Promise((resolve, reject) => {
    const headers = {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Content-Length': Buffer.byteLength(body),
      Authorization: `Bearer ${token}`,
    };
    const request = http.request({ agent, host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers }, response => readJson(response, resolve, reject));
    request.once('error', reject);
    request.end(body);
  });
  return async () => {
    const token = tokens[turn++ % tokens.length];
    try {
      return await post(token);
    } catch (error) {
      // nginx reuses a kept-alive upstream connection the backend (node's 5 s keepAliveTimeout)
      // is closing at that instant, and will not retry a POST itself: one 502, retried once, as
      // clients retry; counted and printed.
      if (!retries || !/^HTTP 502/.test(error.message)) { throw error; }
      retries.count++;
      return post(token);
    }
  };
}

function readJson(response, resolve, reject) {
  const chunks = [];
  response.on('data', chunk => chunks.push(chunk));
  response.once('error', reject);
  response.once('end', () => {
    let answer;
    const text = Buffer.concat(chunks).toString('utf8');
    try { answer = JSON.parse(text); } catch { return reject(new Error(`HTTP ${response.statusCode}, not JSON: ${text.replace(/\s+/g, ' ').slice(0, 200)}`)); }
    if (response.statusCode !== 200 || answer.error || answer.result?.isError) {
      return reject(new Error(`HTTP ${response.statusCode} ${JSON.stringify(answer).slice(0, 300)}`));
    }
    resolve(answer);
  });
}

/** Calls `request` once per caller in turn and checks each answer names that caller. */
async function checkAnswersAreTheCallers(request, callers, upnIn, what) {
  for (let index = 0; index < callers; index++) {
    const upn = upnIn(await request());
    if (upn !== upnOf(index)) { throw new Error(`${what} answered caller ${index} with ${upn ?? 'no user'}`); }
  }
}

const ourUpn = answer => answer.result?.structuredContent?.userPrincipalName;
const peerUpn = answer => /"userPrincipalName":\s*"([^"]+)"/.exec(answer.result?.content?.[0]?.text ?? '')?.[1];

/** `total` requests with `inFlight` outstanding, as a pool of workers each waiting for its answer. */
const inBursts = (request, total) => concurrentThroughput(request, total, IN_FLIGHT);

/** Requests per second and the serving processes' CPU ms per request over one burst. */
async function throughputWithCpu(request, total, servingPids) {
  const pids = servingPids();
  const cpuBefore = cpuMsOf(pids);
  const rate = await inBursts(request, total);
  const cpuAfter = cpuMsOf(pids);
  return { rate, cpuMsPerRequest: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / total };
}

// ---------------------------------------------------------------------------------------------
// The run

const pin = canPin();
printHeader(`Remote server as a fleet: nginx, ${REPLICAS} replicas, Redis; ${CALLS} sequential calls, ${THROUGHPUT_ROUNDS}×${REQUESTS} requests at ${IN_FLIGHT} in flight, ${NEW_USERS} new users; interleaved`,
  'node esbuild.mjs --production && npx tsc -p . && node bench/fleet.mjs [calls] [requests] [users]');
console.log(`peer:      ${PEER} gets ${PEER_SHARE * 100}% of each block and round (its calls take ten times as long), in the same turns\n`);
console.log(pin
  ? `pinned:    Redis, nginx, replicas, echoes and peers on CPU ${SERVER_CPU}; this load generator and the fakes (Entra ID, Graph) on CPU ${CLIENT_CPU}\n`
  : 'pinned:    nothing (no taskset, or one core): every process shares the CPUs\n');

let peerVersion;
let peerSkipped = process.env.BENCH_PEER === 'off' ? 'left out (BENCH_PEER=off)' : undefined;
if (!peerSkipped) {
  try {
    peerVersion = ensurePeers()[PEER];
  } catch (error) {
    peerSkipped = `${PEER} could not be installed: ${error instanceof Error ? error.message : String(error)}`;
  }
}


async function run() {
  if (pin) { pinSelf(CLIENT_CPU); }
  const { freePort } = compiled('test/helpers/loadBalancer');
  const fakes = await startFakes();
  const warmTokens = await fakes.ask({ tokens: [0, WARM_USERS] });

  const { startRedis } = compiled('test/helpers/redisServer');
  const redisServer = await startedOn(SERVER_CPU, pin, () => startRedis({ password: randomBytes(12).toString('hex') }));
  stops.push(() => redisServer.stop());
  const redis = new Redis(redisServer.url);
  redis.on('error', () => undefined);
  stops.push(async () => { redis.disconnect(); });
  const redisPid = await infoField(redis, 'server', 'process_id');

  const fleetPort = await freePort();
  const comparedPort = await freePort();
  const { replicas, compared, echoes, trips, peers, peerFailure } = await startedOn(SERVER_CPU, pin, async () => {
    const started = {
      replicas: await startReplicas(fakes, redisServer.url, `http://127.0.0.1:${fleetPort}/mcp`, freePort),
      compared: COMPARE ? await startReplicas(fakes, redisServer.url, `http://127.0.0.1:${comparedPort}/mcp`, freePort, COMPARE, `${PREFIX}compared:`) : undefined,
      echoes: await startHosts('echo'),
      trips: await startHosts('trips', {
        BENCH_TRIPS_REDIS_URL: redisServer.url, BENCH_TRIPS_GRAPH_ENDPOINT: fakes.graphEndpoint, BENCH_TRIPS_GRAPH_TOKEN: await fakes.ask({ graphToken: 0 }),
      }),
    };
    if (peerSkipped) { return started; }
    try {
      return { ...started, peers: await startPeers(fakes, freePort) };
    } catch (error) {
      return { ...started, peerFailure: `${PEER} did not start: ${error instanceof Error ? error.message : String(error)}` };
    }
  });
  peerSkipped ??= peerFailure;
  const fleetBalancer = await startedOn(SERVER_CPU, pin, () => balance(replicas, fleetPort));
  const comparedBalancer = compared ? await startedOn(SERVER_CPU, pin, () => balance(compared, comparedPort)) : undefined;
  const echoBalancer = await startedOn(SERVER_CPU, pin, () => balance(echoes));
  const tripsBalancer = await startedOn(SERVER_CPU, pin, () => balance(trips));
  const peerBalancer = peers ? await startedOn(SERVER_CPU, pin, () => balance(peers)) : undefined;

  // The peer takes a Graph token from the caller and passes it on (it neither validates nor exchanges it).
  const peerTokens = peers ? await Promise.all(Array.from({ length: WARM_USERS }, (_, index) => fakes.ask({ graphToken: index }))) : [];

  const FLEET = `tools/call get_my_profile: nginx → ${REPLICAS} replicas + Redis`;
  const ECHO = `bare node:http echo: nginx → ${REPLICAS} echoes`;
  const TRIPS = `a tool call's round trips, no work: nginx → ${REPLICAS} × (node:http → Redis → GET /me)`;
  const PEER_ROW = `${PEER}${peerVersion ? ` ${peerVersion}` : ''} get-current-user: nginx → ${REPLICAS} peers`;
  const COMPARED = `the same, BENCH_COMPARE build: nginx → ${REPLICAS} replicas + Redis`;
  const retried = new Map([FLEET, COMPARED, ECHO, TRIPS, PEER_ROW].map(name => [name, { count: 0 }]));
  const fleetCall = mcpPoster(fleetBalancer.port, callOf('get_my_profile'), warmTokens, retried.get(FLEET));
  const comparedCall = comparedBalancer ? mcpPoster(comparedBalancer.port, callOf('get_my_profile'), warmTokens, retried.get(COMPARED)) : undefined;
  const echoCall = mcpPoster(echoBalancer.port, callOf('get_my_profile'), warmTokens, retried.get(ECHO));
  const tripsCall = mcpPoster(tripsBalancer.port, callOf('get_my_profile'), warmTokens, retried.get(TRIPS));
  const peerCall = peers ? mcpPoster(peerBalancer.port, callOf('get-current-user'), peerTokens, retried.get(PEER_ROW)) : undefined;

  // Each warm user's first call does its On-Behalf-Of exchange; the answers must be the caller's own.
  await checkAnswersAreTheCallers(fleetCall, WARM_USERS, ourUpn, 'the fleet');
  if (comparedCall) { await checkAnswersAreTheCallers(comparedCall, WARM_USERS, ourUpn, 'the BENCH_COMPARE fleet'); }
  if (peerCall) { await checkAnswersAreTheCallers(peerCall, WARM_USERS, peerUpn, PEER); }
  // Then every replica sees every warm user (the balancer takes turns), and every path is warm.
  const peerBlock = count => Math.max(10, Math.round(count * PEER_SHARE));
  const contestants = [
    { name: FLEET, request: fleetCall, pids: () => [...replicas.map(replica => replica.pid), redisPid, ...fleetBalancer.pids()] },
    ...(comparedCall ? [{ name: COMPARED, request: comparedCall, pids: () => [...compared.map(replica => replica.pid), redisPid, ...comparedBalancer.pids()] }] : []),
    { name: ECHO, request: echoCall, pids: () => [...echoes.map(echo => echo.pid), ...echoBalancer.pids()] },
    { name: TRIPS, request: tripsCall, pids: () => [...trips.map(host => host.pid), redisPid, ...tripsBalancer.pids()] },
    ...(peerCall ? [{ name: PEER_ROW, request: peerCall, pids: () => [...peers.map(peer => peer.pid), ...peerBalancer.pids()], size: peerBlock }] : []),
  ];
  const sized = (size, count) => (size ? size(count) : count);
  for (const { request, size } of contestants) { await inBursts(request, sized(size, WARM_CALLS)); }

  // 1. Sequential latency
  const latency = await interleave(contestants.map(({ name, request, size }) => ({ name, measure: () => sequentialLatencies(request, sized(size, LATENCY_BLOCK)) })),
    Math.ceil(CALLS / LATENCY_BLOCK));

  // 2. Throughput, many in flight
  const throughput = await interleave(contestants.map(({ name, request, pids, size }) => ({ name, measure: () => throughputWithCpu(request, sized(size, REQUESTS), pids) })),
    THROUGHPUT_ROUNDS, { warmupRounds: 0 });

  // 3. How cost grows: warm calls, then new users' first calls
  const warm = await costOf(() => inBursts(fleetCall, CALLS), redis, fakes);
  const idle = await costOf(() => sleep(warm.ms), redis, fakes);
  const newTokens = await fakes.ask({ tokens: [WARM_USERS, NEW_USERS] });
  const newUsersCall = mcpPoster(fleetBalancer.port, callOf('get_my_profile'), newTokens, retried.get(FLEET));
  const replicaPids = replicas.map(replica => replica.pid);
  await sleep(500);
  const before = { rss: rssOf(replicaPids), redisMemory: await infoField(redis, 'memory', 'used_memory'), keys: await redis.dbsize() };
  const first = await costOf(() => inBursts(newUsersCall, NEW_USERS), redis, fakes);
  await sleep(500);
  const after = { rss: rssOf(replicaPids), redisMemory: await infoField(redis, 'memory', 'used_memory'), keys: await redis.dbsize() };

  printLatency(latency, { FLEET, COMPARED, ECHO, TRIPS, PEER_ROW });
  const rates = printThroughput(throughput, { FLEET, COMPARED, ECHO, TRIPS, PEER_ROW }, contestants);
  printCost({ warm, idle, first, before, after });
  if (peerSkipped) { console.log(`\n${PEER} row skipped: ${peerSkipped}`); }
  console.log(`\nretried once after an nginx 502 (a kept-alive upstream connection closing): ${[...retried].map(([name, { count }]) => `${name.split(':')[0]} ${count}`).join(', ')}`);
  printFleetTargets(latency, rates, { FLEET, ECHO, TRIPS, PEER_ROW });
}

/**
 * On-Behalf-Of exchanges and Redis commands while `work` runs, and how long it took. INFO
 * commandstats also counts the commands a Lua script runs inside Redis; MONITOR tells those
 * ("lua") from the ones a client sent, the round trips.
 */
async function costOf(work, redis, fakes) {
  const monitor = await redis.monitor();
  let roundTrips = 0;
  monitor.on('monitor', (_time, args, source) => {
    if (source !== 'lua' && !['info', 'monitor'].includes(String(args[0]).toLowerCase())) { roundTrips++; }
  });
  const [oboBefore, commandsBefore] = [await fakes.ask({ oboExchanges: true }), await commandCounts(redis)];
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const [oboAfter, commandsAfter] = [await fakes.ask({ oboExchanges: true }), await commandCounts(redis)];
  monitor.disconnect();
  return { ms, obo: oboAfter - oboBefore, commands: countsBetween(commandsBefore, commandsAfter), roundTrips };
}

// ---------------------------------------------------------------------------------------------
// Results

/** A percentile of a contestant's latencies, undefined when it has none. */
const percentileOf = (latency, name, p) => (latency.samples.get(name)?.length > 0 ? percentile(latency.samples.get(name), p) : undefined);

function printLatency(latency, { FLEET, COMPARED, ECHO, TRIPS, PEER_ROW }) {
  const latencyAt = (name, p) => percentileOf(latency, name, p);
  const present = [FLEET, COMPARED, ECHO, TRIPS, PEER_ROW].filter(name => latency.samples.get(name)?.length > 0);
  console.log(`## 1. Warm tools/call through nginx, sequential, kept-alive connection, blocks of ${LATENCY_BLOCK} in turn\n`);
  printTable([['path', 'p50', 'p99', 'max', 'throughput'], ...present.map(name => [name, ...latencyColumns(latency.samples.get(name))])]);
  printFailures(latency.failures);
  if (latencyAt(FLEET, 50) !== undefined && latencyAt(ECHO, 50) !== undefined) {
    console.log(`\nadded by the fleet over the echo fleet: p50 ${formatMs(latencyAt(FLEET, 50) - latencyAt(ECHO, 50))}, p99 ${formatMs(latencyAt(FLEET, 99) - latencyAt(ECHO, 99))}` +
      ` (p50 ${formatRatio(latencyAt(FLEET, 50) / latencyAt(ECHO, 50))} the echo)`);
  }
  if (latencyAt(FLEET, 50) !== undefined && latencyAt(ECHO, 50) !== undefined && latencyAt(TRIPS, 50) !== undefined) {
    console.log(`  of which the round trips alone (the trips row over the echo), p50: ${formatMs(latencyAt(TRIPS, 50) - latencyAt(ECHO, 50))};` +
      ` the fleet's own work over the trips, p50: ${formatMs(latencyAt(FLEET, 50) - latencyAt(TRIPS, 50))}`);
  }
  if (latencyAt(COMPARED, 50) !== undefined) {
    console.log(`this build − the BENCH_COMPARE build, p50: ${formatMs(latencyAt(FLEET, 50) - latencyAt(COMPARED, 50))}`);
  }
  if (latencyAt(PEER_ROW, 50) !== undefined) {
    console.log(`${PEER} p50 ÷ ours: ${formatRatio(latencyAt(PEER_ROW, 50) / latencyAt(FLEET, 50))}`);
  }
}

function printThroughput(throughput, { FLEET, COMPARED, ECHO, TRIPS, PEER_ROW }, contestants) {
  console.log(`\n## 2. Requests per second, ${IN_FLIGHT} in flight, median of ${THROUGHPUT_ROUNDS} rounds of ${REQUESTS}${pin ? `, serving side on one core (CPU ${SERVER_CPU})` : ''}\n`);
  const present = [FLEET, COMPARED, ECHO, TRIPS, PEER_ROW].filter(name => throughput.samples.get(name)?.length > 0);
  const samples = new Map(present.map(name => [name, throughput.samples.get(name)]));
  const rates = mediansOf(samples, 'rate');
  const cpu = mediansOf(new Map(present.map(name => [name, samples.get(name).filter(sample => sample.cpuMsPerRequest !== undefined)])), 'cpuMsPerRequest');
  const ratio = (map, name, other) => (map.has(name) && map.has(other) ? formatRatio(map.get(name) / map.get(other)) : 'n/a');
  printTable([
    ['path', 'requests/s', 'rounds (min–max)', '÷ echo', 'serving CPU per request', 'requests per CPU-second', 'ours ÷ this (rate, CPU-s)'],
    ...present.map(name => {
      const rounds = samples.get(name).map(sample => sample.rate);
      const perCpuSecond = cpu.has(name) ? formatRate(1000 / cpu.get(name)) : 'n/a';
      return [name, formatRate(rates.get(name)), `${formatRate(Math.min(...rounds))}–${formatRate(Math.max(...rounds))}`, ratio(rates, name, ECHO),
        formatMs(cpu.get(name)), perCpuSecond, name === FLEET ? '-' : `${ratio(rates, FLEET, name)}, ${cpu.has(name) && cpu.has(FLEET) ? formatRatio(cpu.get(name) / cpu.get(FLEET)) : 'n/a'}`];
    }),
  ]);
  printFailures(throughput.failures);
  const serving = contestants.map(({ name, pids }) => `${name.split(':')[0]}: ${pids().length} processes`).join('; ');
  console.log(`\nserving CPU per request: user + system time, from /proc, of every serving process (nginx master and worker included; ${serving}) over a round ÷ requests.`);
  return rates;
}

function printCost({ warm, idle, first, before, after }) {
  console.log(`\n## 3. How cost grows (the fleet)\n`);
  const perCall = (counts, calls) => sumOf(counts) / calls;
  const breakdown = (counts, calls) => [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${(n / calls).toFixed(2)}`).join(', ') || 'none';
  const warmCommands = Math.max(0, sumOf(warm.commands) - sumOf(idle.commands));
  const perThousand = (bytes, format) => format((bytes * 1000) / NEW_USERS);
  printTable([
    ['measure', 'per tool call', 'detail'],
    [`On-Behalf-Of exchanges, warm (${CALLS} calls, ${WARM_USERS} users)`, (warm.obo / CALLS).toFixed(3), `${warm.obo} at the fake Entra`],
    [`Redis round trips, warm (${CALLS} calls)`, ((warm.roundTrips - idle.roundTrips) / CALLS).toFixed(2), `idle over as long: ${idle.roundTrips}`],
    [`Redis commands executed, warm (${CALLS} calls)`, (warmCommands / CALLS).toFixed(2), `${breakdown(warm.commands, CALLS)}; idle over as long: ${sumOf(idle.commands)}`],
    [`On-Behalf-Of exchanges, first call of ${NEW_USERS} new users`, (first.obo / NEW_USERS).toFixed(3), `${first.obo} at the fake Entra`],
    [`Redis round trips, first call of ${NEW_USERS} new users`, (first.roundTrips / NEW_USERS).toFixed(2), ''],
    [`Redis commands executed, first call of ${NEW_USERS} new users`, perCall(first.commands, NEW_USERS).toFixed(2), breakdown(first.commands, NEW_USERS)],
  ]);
  console.log('');
  printTable([
    [`memory, before → after ${NEW_USERS} new users' first calls`, 'before', 'after', 'per 1,000 users'],
    [`replicas' RSS (VmRSS, sum of ${REPLICAS})`, formatMiB(before.rss), formatMiB(after.rss), perThousand(after.rss - before.rss, formatMiB)],
    ['Redis used_memory', formatKiB(before.redisMemory), formatKiB(after.redisMemory), perThousand(after.redisMemory - before.redisMemory, formatKiB)],
    ['Redis keys', String(before.keys), String(after.keys), ((after.keys - before.keys) * 1000 / NEW_USERS).toFixed(0)],
  ]);
  console.log('\nRedis, all replicas together: round trips are the commands clients sent (MONITOR, scripts\' inner commands left out);' +
    '\ncommands executed are INFO commandstats before and after, a script\'s inner commands included (this script\'s INFO left out).');
}

function printFleetTargets(latency, rates, { FLEET, ECHO, TRIPS, PEER_ROW }) {
  const latencyAt = (name, p) => percentileOf(latency, name, p);
  const added = latencyAt(FLEET, 50) !== undefined && latencyAt(ECHO, 50) !== undefined ? latencyAt(FLEET, 50) - latencyAt(ECHO, 50) : undefined;
  const targets = [];
  if (added !== undefined) {
    targets.push({ description: `warm tools/call through the balancer adds ≤ 2 ms over the echo at p50 (${formatMs(added)})`, met: added <= 2 });
  }
  if (rates.has(FLEET) && rates.has(PEER_ROW)) {
    const times = rates.get(FLEET) / rates.get(PEER_ROW);
    targets.push({ description: `≥ 3× the requests/s of ${PEER} (${formatRatio(times)})`, met: times >= 3 });
  }
  printTargets(targets);
}

// ---------------------------------------------------------------------------------------------

try {
  await run();
} finally {
  await stopEverything();
}
