// The whole test suite: `npm test`. Builds, type-checks and compiles, runs the unit suite in
// plain node, then the integration suite inside a real VS Code (see scripts/integration.mjs).
//   --unit          unit suite only
//   --integration   integration suite only
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './vscodeHost.mjs';

const only = process.argv.includes('--unit') ? 'unit' : process.argv.includes('--integration') ? 'integration' : 'all';

// The tests' services are all on loopback: a proxy this machine uses for the internet must not
// see them (the proxy tests name their own). Installs (code-server, Node) still go through it.
const LOOPBACK = '127.0.0.1,localhost,::1';
const noProxy = [process.env.no_proxy || process.env.NO_PROXY, LOOPBACK].filter(Boolean).join(',');

function run(label, command, args, env = {}) {
  console.log(`\n▶ ${label}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NO_PROXY: noProxy, no_proxy: noProxy, ...env } });
  if (result.status !== 0) {
    console.error(`✘ ${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

run('bundle (esbuild)', process.execPath, ['esbuild.mjs']);
run('compile and type-check (tsc)', process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
run('lint (eslint)', process.execPath, [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), 'src', 'test', 'scripts', 'bench']);

if (only !== 'integration') {
  // The fake Graph's certificate is trusted the way a corporate CA is: NODE_EXTRA_CA_CERTS.
  run('unit tests', process.execPath, ['out/test/unit/index.js'], { NODE_EXTRA_CA_CERTS: join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem') });
}
if (only !== 'unit') {
  run('integration tests in VS Code', process.execPath, ['scripts/integration.mjs']);
}
