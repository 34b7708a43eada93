// Cold start of the bundled MCP server: spawn → `initialize` → `tools/list` answered, measured
// side by side with a bare `node -e ""` in the same run. Prints medians and the ratio.
//   npm run build && node bench/coldStart.mjs [runs]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const RUNS = Number(process.argv[2] ?? 15);
const env = {
  ...process.env,
  ENTRA_MCP_BROKER: join(ROOT, '.no-broker.sock'),
  ENTRA_MCP_BROKER_SECRET: '0'.repeat(64),
  ENTRA_MCP_GRAPH_ENDPOINT: 'https://graph.microsoft.com',
  ENTRA_MCP_ARM_ENDPOINT: 'https://management.azure.com',
};

function bareNode() {
  const started = performance.now();
  return new Promise(resolve => spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on('exit', () => resolve(performance.now() - started)));
}

function serverToToolsList() {
  const started = performance.now();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'server.js')], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  const send = message => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/list' });
  return new Promise(resolve => {
    let buffer = '';
    child.stdout.on('data', chunk => {
      buffer += chunk;
      if (buffer.split('\n').some(line => line.includes('"id":2'))) {
        const elapsed = performance.now() - started;
        child.kill();
        resolve(elapsed);
      }
    });
  });
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const bare = [];
const server = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(await bareNode());
  server.push(await serverToToolsList());
}
console.log(`runs: ${RUNS} (interleaved)`);
console.log(`bare node -e "":          median ${median(bare).toFixed(1)} ms`);
console.log(`server to tools/list:     median ${median(server).toFixed(1)} ms`);
console.log(`ratio server / bare node: ${(median(server) / median(bare)).toFixed(2)}x`);
