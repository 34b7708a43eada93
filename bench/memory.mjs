// Memory: idle resident set size (VmRSS) of each MCP server once it has answered `tools/list`
// and idled for a second, against a bare idle node, medians over interleaved rounds. Then the
// sizes that ship: the VSIX and what it carries from dist/, and, for context, the peers' installs.
//   npm run build:production && node bench/memory.mjs [rounds=5]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  PEERS_DIR, PEER_PACKAGES, ROOT, countFromArgv, formatKiB, formatMiB, interleave, measureIdleRss, mediansOf,
  printFailures, printHeader, printTable, ratioCells, sleep, stopChild,
} from './lib.mjs';
import { mcpServers } from './servers.mjs';

const ROUNDS = countFromArgv(5);
const IDLE_MS = 1_000;
const BARE = 'bare node (idle setInterval)';

/** RSS after IDLE_MS of a child that is up. */
async function idleRss(child) {
  try {
    await sleep(IDLE_MS);
    return measureIdleRss(child.pid);
  } finally {
    await stopChild(child);
  }
}

function bareIdleNode() {
  return idleRss(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e3)'], { stdio: 'ignore' }));
}

/** The newest VSIX of this extension in the repository root or .vscode-test/ (where scripts/package.mjs writes). */
function newestVsix() {
  const { name } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const found = [ROOT, join(ROOT, '.vscode-test')]
    .filter(dir => existsSync(dir))
    .flatMap(dir => readdirSync(dir).filter(file => file.startsWith(`${name}-`) && file.endsWith('.vsix')).map(file => join(dir, file)))
    .map(file => ({ file, stat: statSync(file) }))
    .sort((a, b) => b.stat.mtimeMs - a.stat.mtimeMs);
  return found[0];
}

/** What the VSIX carries from dist/: the bundles and their data, not the source maps. */
function shippedDistFiles() {
  const dist = join(ROOT, 'dist');
  return existsSync(dist) ? readdirSync(dist).filter(file => !file.endsWith('.map')).sort() : [];
}

/** Bytes on disk (du -sk) of a directory: a package with the dependencies npm installed for it. */
function diskUsage(dirs) {
  try {
    return Number(execFileSync('du', ['-skc', ...dirs], { encoding: 'utf8' }).trim().split('\n').pop().split('\t')[0]) * 1024;
  } catch {
    return undefined;
  }
}

/** A peer's own directory plus every package it pulls in, as npm's lockfile records them. */
function peerClosure(name) {
  const { packages = {} } = JSON.parse(readFileSync(join(PEERS_DIR, 'node_modules', '.package-lock.json'), 'utf8'));
  const closure = new Set();
  const visit = key => {
    if (closure.has(key) || !packages[key]) { return; }
    closure.add(key);
    const { dependencies = {}, optionalDependencies = {} } = packages[key];
    for (const dependency of Object.keys({ ...dependencies, ...optionalDependencies })) {
      visit(resolveInstalled(packages, key, dependency));
    }
  };
  visit(`node_modules/${name}`);
  return [...closure].map(key => join(PEERS_DIR, key));
}

/** Where node would find `dependency` from the package at `fromKey`: nested node_modules first, then up. */
function resolveInstalled(packages, fromKey, dependency) {
  for (let base = fromKey; ; base = base.slice(0, base.lastIndexOf('/node_modules/'))) {
    const candidate = `${base}/node_modules/${dependency}`;
    if (packages[candidate]) { return candidate; }
    if (!base.includes('/node_modules/')) { return `node_modules/${dependency}`; }
  }
}

/** Interleaved idle RSS of bare node and each server, as a table with ratios. */
async function printIdleRss(servers) {
  const { samples, failures } = await interleave([
    { name: BARE, measure: bareIdleNode },
    ...servers.map(({ name, start }) => ({ name, measure: async () => idleRss((await start({ keepRunning: true })).child) })),
  ], ROUNDS);
  const medians = mediansOf(samples);
  const ours = medians.get(servers[0].name);
  printTable([
    ['process', 'idle RSS (median)', 'min', 'max', '× bare node', '÷ ours'],
    ...[...medians].map(([name, value]) => [
      name, formatMiB(value), formatMiB(Math.min(...samples.get(name))), formatMiB(Math.max(...samples.get(name))),
      ...ratioCells(value, medians.get(BARE), ours, name === BARE),
    ]),
  ]);
  printFailures(failures);
}

const servers = mcpServers();
printHeader(`Idle memory after tools/list + ${IDLE_MS} ms, ${ROUNDS} interleaved rounds (+1 warm-up)`, 'npm run build:production && node bench/memory.mjs [rounds]');

if (measureIdleRss(process.pid) === undefined) {
  console.log('idle RSS: n/a (VmRSS is read from /proc, Linux only)');
} else {
  await printIdleRss(servers);
}

console.log('\nShipped sizes:');
const vsix = newestVsix();
const distBuilt = Math.max(0, ...shippedDistFiles().map(file => statSync(join(ROOT, 'dist', file)).mtimeMs));
const vsixLabel = !vsix ? 'VSIX (none found: run `npm run package`)'
  : `VSIX ${vsix.file.slice(ROOT.length + 1)}${vsix.stat.mtimeMs < distBuilt ? ' (older than dist/: `npm run package` to refresh)' : ''}`;
printTable([
  ['artifact', 'size'],
  [vsixLabel, formatKiB(vsix?.stat.size)],
  ...shippedDistFiles().map(file => [`dist/${file}`, formatKiB(statSync(join(ROOT, 'dist', file)).size)]),
]);

console.log('\nPeers on disk (du of the package and its installed dependency closure, from bench/peers/node_modules/.package-lock.json):');
printTable([
  ['package', 'packages', 'on disk'],
  ...PEER_PACKAGES.map(name => {
    const closure = peerClosure(name);
    return [name, closure.length, formatMiB(diskUsage(closure))];
  }),
]);
