/**
 * Entry of the integration suite, loaded by VS Code's extension host (extensionTestsPath).
 * INTEGRATION_SUITE picks the files: `extension` (the extension under development) or
 * `vsix` (the packaged extension installed into the host).
 */
import { join } from 'node:path';
import { runMochaSuite } from '../runMocha';

export async function run(): Promise<void> {
  const suite = process.env.INTEGRATION_SUITE === 'vsix' ? 'vsix' : 'extension';
  const failed = await runMochaSuite({
    suite: `integration-${suite}`,
    // The remote server's tests first: the extension suite ends with the leak scan, which must see their output too.
    files: (suite === 'vsix' ? ['vsix.test.js'] : ['certificates.test.js', 'remote.test.js', 'extension.test.js']).map(file => join(__dirname, file)),
    timeoutMs: 60_000,
    grep: process.env.MOCHA_GREP,
  });
  if (failed > 0) {
    throw new Error(`${failed} integration test(s) failed`);
  }
}
