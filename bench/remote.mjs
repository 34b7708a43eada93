// Remote server (dist/remote.js) against a bare node:http echo, over Streamable HTTP as a client
// calls it: POST /mcp with a JSON body and a bearer token, JSON answer, kept-alive connection.
//   1. latency of warm `tools/call get_my_profile` (token validated, On-Behalf-Of token from the
//      server's cache, HTTPS to the fake Graph, shaped result), sequential, against the echo and
//      against a direct GET /v1.0/me on the fake Graph (the Graph round trip on its own);
//   2. requests per second on one core, many requests in flight, of `tools/call` and `tools/list`;
//   3. the cost of validating the incoming token in-process: our EntraTokenValidator against
//      jose's jwtVerify with the keys given locally (the floor) and against decoding only.
// The server and the echo are pinned to CPU 0, this load generator and the fakes (Entra ID,
// Graph; bench/remoteHost.mjs) to CPU 1, when `taskset` exists and there are two cores.
//   node esbuild.mjs --production && npx tsc -p . && node bench/remote.mjs [calls=2000] [requests=3000] [validations=20000]
// BENCH_COMPARE=<another build's remote.js> adds that build's tools/call beside ours, in the same
// turns and on the same core: a change's gain measured side by side, not across runs of a machine
// whose speed drifts.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import {
  ROOT, compiled, trustTestCa, countFromArgv, formatMs, formatRate, formatRatio, interleave, latencyColumns, median, mediansOf, percentile,
  printFailures, printHeader, printTable, requireBuilt, sequentialLatencies, concurrentThroughput, sleep,
} from './lib.mjs';

// The server and the validator measured in this process trust the fakes' test CA.
trustTestCa(import.meta.url);

const CALLS = countFromArgv(2_000, 2);
const REQUESTS = countFromArgv(3_000, 3);
const VALIDATIONS = countFromArgv(20_000, 4);
const LATENCY_BLOCK = 100;
const IN_FLIGHT = 32;
const THROUGHPUT_ROUNDS = 3;
const VALIDATION_BLOCK = 500;
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const TOOLS_CALL = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_my_profile', arguments: {} } };
const TOOLS_LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

// ---------------------------------------------------------------------------------------------
// Processes

/** Pinning needs taskset and a second core for the load generator; otherwise everything shares. */
function canPin() {
  return process.env.BENCH_PIN !== 'off' && os.cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** `node args…`, on `cpu` when pinning. */
function spawnNode(args, { cpu, pin, ...options }) {
  return pin
    ? spawn('taskset', ['-c', String(cpu), process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
}

/** This process and its threads (and children started from now on) onto one CPU. */
function pinSelf(cpu) {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  if (result.status !== 0) { throw new Error(`taskset could not pin this process to CPU ${cpu}`); }
}

/** Starts bench/remoteHost.mjs in `role` and resolves with what it reports, and a stop function. */
function startHost(role, { cpu, pin }) {
  const child = spawnNode([join(ROOT, 'bench', 'remoteHost.mjs'), role], { cpu, pin, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`bench/remoteHost.mjs ${role} exited (code ${code}) before it was ready`)));
    child.once('message', report => resolve({
      ...report, pid: child.pid,
      stop: () => new Promise(done => { child.once('exit', done); child.disconnect(); }),
    }));
  });
}

/** A port free right now on loopback: the server is told which to bind, so its stdout (audit lines) can go unread. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** dist/remote.js pointed at the fakes, rate limit off, audit lines (stdout) discarded, stderr kept for failures. */
async function startRemoteServer(fakes, { cpu, pin, bundle = requireBuilt(join(ROOT, 'dist', 'remote.js'), 'node esbuild.mjs --production') }) {
  const port = await freePort();
  const child = spawnNode([...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_CPU_PROF] : []), bundle], {
    cpu, pin,
    env: { ...process.env, ...fakes.env, ENTRA_MCP_PORT: String(port), ENTRA_MCP_RATE_LIMIT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', chunk => { stderr = (stderr + chunk).slice(-2_000); });
  const exited = new Promise(resolve => child.once('exit', resolve));
  const fail = message => new Error(`${message}${stderr.trim() ? `\n  stderr: ${stderr.trim()}` : ''}`);
  await waitUntilReady(port, exited).catch(error => { child.kill('SIGKILL'); throw fail(error.message); });
  return {
    port, pid: child.pid,
    stop: async () => { child.kill('SIGTERM'); await exited; },
  };
}

/** Polls /readyz until the server has loaded the signing keys. */
async function waitUntilReady(port, exited, timeoutMs = 15_000) {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (gone) { throw new Error('dist/remote.js exited before it was ready'); }
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(response => response.status, () => 0);
    if (status === 200) { return; }
    await sleep(50);
  }
  throw new Error(`dist/remote.js not ready within ${timeoutMs} ms`);
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc (Linux; undefined
 * elsewhere). taskset execs the program it starts, so a pinned child's pid is the program's.
 */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Requests per second and the serving process's CPU ms per request over one burst. */
async function throughputWithCpu(request, total, pid) {
  const cpuBefore = cpuMsOf(pid);
  const rate = await concurrentThroughput(request, total, IN_FLIGHT);
  const cpuAfter = cpuMsOf(pid);
  return { rate, cpuMsPerRequest: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / total };
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * A JSON-RPC POST to `port`'s /mcp as a Streamable HTTP client sends it, over a kept-alive
 * connection; the answer is read whole and parsed, and anything but a result (an HTTP error, a
 * JSON-RPC error, a tool error) throws.
 */
function mcpPoster(port, message, token) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const body = JSON.stringify(message);
  const headers = {
    'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Content-Length': Buffer.byteLength(body),
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
  };
  const options = { agent, host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers };
  return () => new Promise((resolve, reject) => {
    const request = http.request(options, response => readJson(response, message.method, resolve, reject));
    request.once('error', reject);
    request.end(body);
  });
}

/** GET /v1.0/me on the fake Graph with the On-Behalf-Of token, over a kept-alive HTTPS connection. */
function graphGetter(graphEndpoint, graphToken) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const url = new URL('/v1.0/me', graphEndpoint);
  const options = { agent, headers: { Authorization: `Bearer ${graphToken}` } };
  return () => new Promise((resolve, reject) => {
    https.get(url, options, response => readJson(response, 'GET /v1.0/me', resolve, reject)).once('error', reject);
  });
}

function readJson(response, what, resolve, reject) {
  const chunks = [];
  response.on('data', chunk => chunks.push(chunk));
  response.once('error', reject);
  response.once('end', () => {
    let answer;
    try { answer = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (error) { return reject(error); }
    if (response.statusCode !== 200 || answer.error || answer.result?.isError) {
      return reject(new Error(`${what}: HTTP ${response.statusCode} ${JSON.stringify(answer).slice(0, 300)}`));
    }
    resolve(answer);
  });
}

// ---------------------------------------------------------------------------------------------
// Token validation, in this process

/** Our validator, as the server runs it, with its keys loaded from the fake Entra. */
async function startOurValidator(fakes) {
  const { EntraTokenValidator } = compiled('src/remote/tokenValidator');
  const validator = new EntraTokenValidator({
    authorityHost: fakes.authorityHost, tenantId: fakes.tenantId, allowedTenants: [fakes.tenantId], clientId: fakes.clientId, scope: 'access_as_user',
  });
  await validator.start(error => { throw error; });
  return validator;
}

/** jose's jwtVerify with the same checks and the keys already here: signature and claims, nothing else. */
async function joseLocalVerifier(fakes) {
  const { createLocalJWKSet, jwtVerify } = await import('jose');
  const response = await fetch(`${fakes.authorityHost}/${fakes.tenantId}/discovery/v2.0/keys`);
  const keys = createLocalJWKSet(await response.json());
  const options = {
    algorithms: ['RS256'], issuer: `${fakes.authorityHost}/${fakes.tenantId}/v2.0`,
    audience: [fakes.clientId, `api://${fakes.clientId}`], requiredClaims: ['exp', 'iat', 'oid'],
  };
  return token => jwtVerify(token, keys, options);
}

/** Reading the claims without checking anything: base64url and JSON.parse of the payload. */
function decodeOnly(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Mean µs per call over a block of calls made one after the other (one call is too short to time alone). */
async function microsecondsPerCall(check, token, count) {
  const started = performance.now();
  for (let i = 0; i < count; i++) { await check(token); }
  return ((performance.now() - started) * 1000) / count;
}

// ---------------------------------------------------------------------------------------------
// The run

const pin = canPin();
printHeader(`Remote server over Streamable HTTP: ${CALLS} sequential calls, ${THROUGHPUT_ROUNDS}×${REQUESTS} requests at ${IN_FLIGHT} in flight, ${VALIDATIONS} validations; interleaved`,
  'node esbuild.mjs --production && npx tsc -p . && node bench/remote.mjs [calls] [requests] [validations]');
console.log(pin
  ? `pinned:    dist/remote.js and the echo on CPU ${SERVER_CPU}; this load generator and the fakes (Entra ID, Graph) on CPU ${CLIENT_CPU}\n`
  : 'pinned:    nothing (no taskset, or one core): every process shares the CPUs\n');
if (pin) { pinSelf(CLIENT_CPU); }

const fakes = await startHost('fakes', { cpu: CLIENT_CPU, pin });
const echo = await startHost('echo', { cpu: SERVER_CPU, pin });
const server = await startRemoteServer(fakes, { cpu: SERVER_CPU, pin });
const compared = process.env.BENCH_COMPARE ? await startRemoteServer(fakes, { cpu: SERVER_CPU, pin, bundle: process.env.BENCH_COMPARE }) : undefined;
const callCompared = compared ? mcpPoster(compared.port, TOOLS_CALL, fakes.token) : undefined;

const callTool = mcpPoster(server.port, TOOLS_CALL, fakes.token);
const listTools = mcpPoster(server.port, TOOLS_LIST, fakes.token);
const echoCall = mcpPoster(echo.port, TOOLS_CALL, fakes.token);
const graphMe = graphGetter(fakes.graphEndpoint, fakes.graphToken);

// The first call does the On-Behalf-Of exchange at the fake Entra; every later one is a cache hit.
const first = await callTool();
if (first.result?.structuredContent?.userPrincipalName !== fakes.userUpn) {
  throw new Error(`get_my_profile answered for someone else: ${JSON.stringify(first).slice(0, 300)}`);
}
if (callCompared && (await callCompared()).result?.structuredContent?.userPrincipalName !== fakes.userUpn) {
  throw new Error('the BENCH_COMPARE build\'s get_my_profile did not answer for the caller');
}

// 1. Sequential latency
const CALL = 'tools/call get_my_profile (remote server)';
const ECHO = 'bare node:http echo';
const GRAPH = 'direct GET /v1.0/me on the fake Graph (HTTPS)';
const COMPARED = 'tools/call get_my_profile (BENCH_COMPARE build)';
const latency = await interleave([
  { name: CALL, measure: () => sequentialLatencies(callTool, LATENCY_BLOCK) },
  ...(callCompared ? [{ name: COMPARED, measure: () => sequentialLatencies(callCompared, LATENCY_BLOCK) }] : []),
  { name: ECHO, measure: () => sequentialLatencies(echoCall, LATENCY_BLOCK) },
  { name: GRAPH, measure: () => sequentialLatencies(graphMe, LATENCY_BLOCK) },
], Math.ceil(CALLS / LATENCY_BLOCK));

// 2. Throughput, many in flight (warm every path first, then interleaved rounds)
const LIST = 'tools/list (remote server)';
const throughputPaths = [
  { name: CALL, request: callTool, pid: server.pid },
  ...(callCompared ? [{ name: COMPARED, request: callCompared, pid: compared.pid }] : []),
  { name: LIST, request: listTools, pid: server.pid },
  { name: ECHO, request: echoCall, pid: echo.pid },
];
for (const { request } of throughputPaths) { await concurrentThroughput(request, 200, IN_FLIGHT); }
const throughput = await interleave(throughputPaths.map(({ name, request, pid }) => ({ name, measure: () => throughputWithCpu(request, REQUESTS, pid) })),
  THROUGHPUT_ROUNDS, { warmupRounds: 0 });

// 3. Token validation, in this process
const OURS = 'EntraTokenValidator.validate (ours)';
const JOSE = 'jose jwtVerify, local JWKS (floor)';
const DECODE = 'decode only (base64url + JSON.parse)';
const validator = await startOurValidator(fakes);
const joseVerify = await joseLocalVerifier(fakes);
const validation = await interleave([
  { name: OURS, measure: () => microsecondsPerCall(token => validator.validate(token), fakes.token, VALIDATION_BLOCK) },
  { name: JOSE, measure: () => microsecondsPerCall(joseVerify, fakes.token, VALIDATION_BLOCK) },
  { name: DECODE, measure: () => microsecondsPerCall(decodeOnly, fakes.token, VALIDATION_BLOCK) },
], Math.ceil(VALIDATIONS / VALIDATION_BLOCK));
validator.stop();

await server.stop();
await compared?.stop();
await Promise.all([echo.stop(), fakes.stop()]);

// ---------------------------------------------------------------------------------------------
// Results

const present = (samples, names) => names.filter(name => samples.get(name)?.length > 0);

console.log('## 1. Warm tools/call, sequential, kept-alive connection\n');
printTable([
  ['path', 'p50', 'p99', 'max', 'throughput'],
  ...present(latency.samples, [CALL, COMPARED, ECHO, GRAPH]).map(name => [name, ...latencyColumns(latency.samples.get(name))]),
]);
printFailures(latency.failures);
const at = (name, p) => percentile(latency.samples.get(name), p);
if (latency.samples.get(CALL).length > 0 && latency.samples.get(ECHO).length > 0) {
  console.log(`\nadded by the remote server over the echo: p50 ${formatMs(at(CALL, 50) - at(ECHO, 50))}, p99 ${formatMs(at(CALL, 99) - at(ECHO, 99))}` +
    ` (p50 ${formatRatio(at(CALL, 50) / at(ECHO, 50))} the echo)`);
  if (latency.samples.get(GRAPH).length > 0) {
    console.log(`  of which the Graph round trip (direct GET, p50): ${formatMs(at(GRAPH, 50))}; the rest, p50: ${formatMs(at(CALL, 50) - at(ECHO, 50) - at(GRAPH, 50))}`);
  }
}

if (latency.samples.get(COMPARED)?.length > 0) {
  console.log(`BENCH_COMPARE build (${process.env.BENCH_COMPARE}) minus this one, p50: ${formatMs(at(COMPARED, 50) - at(CALL, 50))}`);
}

console.log(`\n## 2. Requests per second, ${IN_FLIGHT} in flight, median of ${THROUGHPUT_ROUNDS} rounds of ${REQUESTS}${pin ? `, server on one core (CPU ${SERVER_CPU})` : ''}\n`);
const served = present(throughput.samples, [CALL, COMPARED, LIST, ECHO]);
const rates = mediansOf(new Map(served.map(name => [name, throughput.samples.get(name)])), 'rate');
const cpuCosts = mediansOf(new Map(served.map(name => [name, throughput.samples.get(name).filter(sample => sample.cpuMsPerRequest !== undefined)])), 'cpuMsPerRequest');
printTable([
  ['path', 'requests/s', 'rounds (min–max)', '÷ echo', 'server CPU per request', '× echo'],
  ...[...rates].map(([name, rate]) => {
    const rounds = throughput.samples.get(name).map(sample => sample.rate);
    const cpu = cpuCosts.get(name);
    return [name, formatRate(rate), `${formatRate(Math.min(...rounds))}–${formatRate(Math.max(...rounds))}`, rates.has(ECHO) ? formatRatio(rate / rates.get(ECHO)) : 'n/a',
      formatMs(cpu), cpu !== undefined && cpuCosts.has(ECHO) ? formatRatio(cpu / cpuCosts.get(ECHO)) : 'n/a'];
  }),
]);
printFailures(throughput.failures);
console.log('\nserver CPU per request: user + system time of the serving process (dist/remote.js or the echo) over a round, from /proc, ÷ requests.');

console.log(`\n## 3. Token validation in-process, mean per call over blocks of ${VALIDATION_BLOCK}, median of blocks\n`);
const perCall = new Map(present(validation.samples, [OURS, JOSE, DECODE]).map(name => [name, median(validation.samples.get(name))]));
printTable([
  ['check', 'per call', 'calls/s', '× decode only', '× jose floor'],
  ...[...perCall].map(([name, us]) => [name, `${us.toFixed(us < 10 ? 2 : 1)} µs`, formatRate(1e6 / us),
    perCall.has(DECODE) ? formatRatio(us / perCall.get(DECODE)) : 'n/a', perCall.has(JOSE) ? formatRatio(us / perCall.get(JOSE)) : 'n/a']),
]);
printFailures(validation.failures);
if (perCall.has(OURS) && latency.samples.get(CALL).length > 0) {
  console.log(`\nvalidation's share of a warm tools/call at p50: ${(perCall.get(OURS) / 10 / at(CALL, 50)).toFixed(1)}%`);
}
