// `npm run test:electron`: the same integration suite in desktop VS Code downloaded by
// @vscode/test-electron. Needs the internet; `npm test` uses the offline browser host instead.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT } from './vscodeHost.mjs';

const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
const build = spawnSync(process.execPath, [join(ROOT, 'esbuild.mjs')], { cwd: ROOT, stdio: 'inherit' });
if (tsc.status !== 0 || build.status !== 0) {
  process.exit(1);
}
try {
  await runTests({
    version: '1.139.0',
    extensionDevelopmentPath: [ROOT, join(ROOT, 'test', 'fixtures', 'fake-auth')],
    extensionTestsPath: join(ROOT, 'out', 'test', 'integration', 'index.js'),
    extensionTestsEnv: {
      INTEGRATION_SUITE: 'extension',
      NODE_EXTRA_CA_CERTS: join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem'),
      VSCODE_SKIP_BUILTIN_EXTENSIONS: 'vscode.microsoft-authentication',
    },
    launchArgs: ['--disable-workspace-trust', '--disable-extension=vscode.microsoft-authentication'],
  });
} catch (error) {
  console.error(`test:electron failed: ${error}`);
  process.exit(1);
}
