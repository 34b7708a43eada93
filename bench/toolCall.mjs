// Tool-call overhead: `get_my_profile` through MCP (SDK client → stdio → dist/server.js → token
// from the real broker over IPC → HTTPS to the fake Graph → shaped result) against a direct
// HTTPS GET of /v1.0/me on the same fake Graph with a valid token, over a kept-alive connection
// (node's fetch). Both are timed in alternating blocks; the difference is what our server adds.
// The broker (warm token cache) and the fake Graph run in a separate process, as the extension
// host and Graph would.
//   npm run build:production && npx tsc -p . && node bench/toolCall.mjs [calls=2000]
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ROOT, compiled, trustTestCa, countFromArgv, formatMs, interleave, latencyColumns, percentile, printFailures, printHeader,
  printTable, printTargets, requireBuilt, sequentialLatencies, serverEnv, startBrokerHost,
} from './lib.mjs';

trustTestCa(import.meta.url);

const CALLS = countFromArgv(2_000);
const BLOCK = 100;
const MCP = 'get_my_profile via MCP (stdio → server → broker → Graph)';
const DIRECT = 'direct HTTPS GET /v1.0/me (fetch, keep-alive)';

/** Connects the MCP SDK client to dist/server.js, pointed at this broker and fake Graph. */
async function connectServer(host) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [requireBuilt(join(ROOT, 'dist', 'server.js'), 'npm run build:production')],
    env: serverEnv({
      ENTRA_MCP_BROKER: host.broker.path,
      ENTRA_MCP_BROKER_SECRET: host.broker.secret,
      ENTRA_MCP_GRAPH_ENDPOINT: host.graphEndpoint,
      ENTRA_MCP_ARM_ENDPOINT: host.graphEndpoint,
    }),
  });
  // No tools/list: the SDK client then skips validating results against output schemas, so the
  // figure is transport and server only (VS Code's own client is not this one anyway).
  const client = new Client({ name: 'entra-mcp-bench', version: '1' });
  await client.connect(transport);
  return client;
}

async function callGetMyProfile(client) {
  const result = await client.callTool({ name: 'get_my_profile', arguments: {} });
  if (result.isError) {
    throw new Error(`get_my_profile failed: ${result.content.map(part => part.text).join(' ')}`);
  }
}

/** GET /v1.0/me with a token the fake Graph accepts (what the fake provider issues); parses the JSON as the server does. */
function directGetMe(graphEndpoint) {
  const { makeFakeToken } = compiled('test/helpers/tokens');
  const token = makeFakeToken({ exp: Math.floor(Date.now() / 1000) + 3600, tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    upn: 'MeganB@contoso.com', name: 'Megan Bowen', scp: 'User.Read' });
  const headers = { authorization: `Bearer ${token}` };
  return async () => {
    const response = await fetch(`${graphEndpoint}/v1.0/me`, { headers });
    if (!response.ok) { throw new Error(`GET /v1.0/me: HTTP ${response.status}`); }
    await response.json();
  };
}

printHeader(`Tool-call overhead: ${CALLS} sequential calls each in blocks of ${BLOCK}, interleaved`, 'npm run build:production && npx tsc -p . && node bench/toolCall.mjs [calls]');
const host = await startBrokerHost({ fakeGraph: true });
const client = await connectServer(host);
const getMe = directGetMe(host.graphEndpoint);

const { samples, failures } = await interleave([
  { name: MCP, measure: () => sequentialLatencies(() => callGetMyProfile(client), BLOCK) },
  { name: DIRECT, measure: () => sequentialLatencies(getMe, BLOCK) },
], Math.ceil(CALLS / BLOCK));

await client.close();
await host.stop();

printTable([
  ['path', 'p50', 'p99', 'max', 'throughput'],
  ...[MCP, DIRECT].filter(name => samples.get(name).length > 0).map(name => [name, ...latencyColumns(samples.get(name))]),
]);
printFailures(failures);

if (samples.get(MCP).length > 0 && samples.get(DIRECT).length > 0) {
  const added = p => percentile(samples.get(MCP), p) - percentile(samples.get(DIRECT), p);
  console.log(`\nadded by MCP + server + broker: p50 ${formatMs(added(50))}, p99 ${formatMs(added(99))}`);
  printTargets([{ description: `≤ 2 ms added at p50 (${formatMs(added(50))})`, met: added(50) <= 2 }]);
}
