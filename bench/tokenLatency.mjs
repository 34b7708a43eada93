// Token latency over IPC with a warm cache: the real BrokerClient asking the real BrokerServer
// (TokenService behind it, in a separate process as the extension host is) for get_my_profile's
// User.Read token, against a bare echo of a frame the same size over the same kind of socket.
// Both are measured in alternating blocks so machine noise hits them alike; then the same for
// throughput with many requests in flight.
//   npx tsc -p . && node bench/tokenLatency.mjs [calls=20000]
import net from 'node:net';
import {
  compiled, concurrentThroughput, countFromArgv, formatMs, formatRate, formatRatio, interleave, latencyColumns, median,
  percentile, printFailures, printHeader, printTable, printTargets, sequentialLatencies, startBrokerHost,
} from './lib.mjs';

const CALLS = countFromArgv(20_000);
const BLOCK = 1_000;
const IN_FLIGHT = 64;
const CONCURRENT_BLOCK = 5_000;
const BROKER = 'broker getToken (BrokerClient → BrokerServer → TokenService cache)';
const ECHO = 'bare echo, same socket kind and frame size';

/** The bytes BrokerClient writes for this request: vscode-jsonrpc's Content-Length framing of the JSON. */
function tokenRequestFrame(id = 10_000) {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'broker/getToken', params: { tool: 'get_my_profile', scopes: ['User.Read'] } });
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** A request function for the echo: write one frame, resolve when as many bytes came back. */
async function connectEcho(path, frame) {
  const socket = net.connect(path);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  const waiting = [];
  let received = 0;
  socket.on('data', chunk => {
    received += chunk.length;
    while (received >= frame.length && waiting.length > 0) {
      received -= frame.length;
      waiting.shift()();
    }
  });
  return {
    request: () => new Promise(resolve => { waiting.push(resolve); socket.write(frame); }),
    close: () => socket.destroy(),
  };
}

printHeader(`Token latency over IPC, warm cache: ${CALLS} sequential calls each in blocks of ${BLOCK}, interleaved`, 'npx tsc -p . && node bench/tokenLatency.mjs [calls]');
const host = await startBrokerHost();
const { BrokerClient } = compiled('src/server/brokerClient');
const client = new BrokerClient({ path: host.broker.path, secret: host.broker.secret, clientVersion: 'bench' });
const getToken = () => client.getToken('get_my_profile', ['User.Read']);
await getToken();
const frame = tokenRequestFrame();
const echo = await connectEcho(host.echoPath, frame);
console.log(`frame: ${frame.length} bytes (echoed back at the same size; the broker's answer carries a token and is larger)\n`);

const sequential = await interleave([
  { name: BROKER, measure: () => sequentialLatencies(getToken, BLOCK) },
  { name: ECHO, measure: () => sequentialLatencies(echo.request, BLOCK) },
], Math.ceil(CALLS / BLOCK));
const concurrent = await interleave([
  { name: BROKER, measure: () => concurrentThroughput(getToken, CONCURRENT_BLOCK, IN_FLIGHT) },
  { name: ECHO, measure: () => concurrentThroughput(echo.request, CONCURRENT_BLOCK, IN_FLIGHT) },
], Math.max(3, Math.ceil(CALLS / CONCURRENT_BLOCK)));

client.dispose();
echo.close();
await host.stop();

printTable([
  ['sequential', 'p50', 'p99', 'max', 'throughput', `throughput, ${IN_FLIGHT} in flight (median of blocks)`],
  ...[BROKER, ECHO].map(name => [name, ...latencyColumns(sequential.samples.get(name)), formatRate(median(concurrent.samples.get(name)))]),
]);
printFailures(new Map([...sequential.failures, ...concurrent.failures]));

const ratio = p => percentile(sequential.samples.get(BROKER), p) / percentile(sequential.samples.get(ECHO), p);
const brokerP99 = percentile(sequential.samples.get(BROKER), 99);
console.log(`\nbroker / echo: p50 ${formatRatio(ratio(50))}, p99 ${formatRatio(ratio(99))}, ` +
  `throughput ${IN_FLIGHT} in flight ${formatRatio(median(concurrent.samples.get(BROKER)) / median(concurrent.samples.get(ECHO)))}`);
printTargets([
  { description: `broker p99 ≤ 1 ms (${formatMs(brokerP99)})`, met: brokerP99 <= 1 },
  { description: `broker p99 ≤ 5× echo p99 (${formatRatio(ratio(99))})`, met: ratio(99) <= 5 },
]);
