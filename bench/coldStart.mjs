// Cold start: spawn → `initialize` → `tools/list` answered, for our bundled server, two
// Microsoft 365 MCP servers from npm, and a bare `node -e ""` (spawn to exit), interleaved
// round by round under the same node binary. Prints medians and ratios.
//   npm run build:production && node bench/coldStart.mjs [rounds=15]
import {
  bareNodeExit, countFromArgv, formatMs, formatRatio, interleave, median, mediansOf, percentile, printFailures, printHeader, printTable,
  printTargets, ratioCells,
} from './lib.mjs';
import { mcpServers } from './servers.mjs';

const ROUNDS = countFromArgv(15);
const BARE = 'bare node -e ""';

const servers = mcpServers();
printHeader(`Cold start to tools/list, ${ROUNDS} interleaved rounds (+1 warm-up)`, 'npm run build:production && node bench/coldStart.mjs [rounds]');
for (const { name, describe } of servers) { console.log(`${name}: ${describe}`); }
console.log();

const contestants = [
  { name: BARE, measure: async () => ({ ms: await bareNodeExit() }) },
  ...servers.map(({ name, start }) => ({ name, measure: () => start() })),
];
const { samples, failures } = await interleave(contestants, ROUNDS);

const medians = mediansOf(samples, 'ms');
const ours = medians.get(servers[0].name);
const bare = medians.get(BARE);
const peerMedians = servers.slice(1).map(({ name }) => medians.get(name)).filter(value => value !== undefined);
const fastestPeer = peerMedians.length > 0 ? Math.min(...peerMedians) : undefined;

printTable([
  ['contestant', 'tools', 'tools/list median', 'p90', '× bare node', '÷ ours', 'then ping answered (median)'],
  ...[...medians].map(([name, value]) => {
    const results = samples.get(name);
    return [
      name, results[0].toolCount ?? '-', formatMs(value), formatMs(percentile(results.map(result => result.ms), 90)),
      ...ratioCells(value, bare, ours, name === BARE), name === BARE ? '-' : formatMs(median(results.map(result => result.pingMs))),
    ];
  }),
]);
printFailures(failures);
console.log('\n"then ping answered": a ping sent after the tools/list answer; ours answers initialize and tools/list from a');
console.log('build-time manifest while the full server loads, so its ping answer marks the point a tool call could run.');

console.log(`\nfastest peer / ours: ${formatRatio(fastestPeer / ours)}`);
printTargets([
  { description: `ours ≤ 1.5× bare node (${formatRatio(ours / bare)})`, met: ours <= 1.5 * bare },
  { description: `ours ≥ 3× faster than the fastest peer (${formatRatio(fastestPeer / ours)})`, met: fastestPeer >= 3 * ours },
]);
