/** Entry of the unit suite: plain node, no VS Code. */
import { captureProcessOutput, scanForLeaks } from '../helpers/leakWatch';
import { runMochaSuite, testFiles } from '../runMocha';

captureProcessOutput();
void runMochaSuite({ suite: 'unit', files: testFiles(__dirname), timeoutMs: 20_000, grep: process.env.MOCHA_GREP })
  .then(failed => {
    // The whole run's output, audit lines and tool results, scanned for every token and secret it minted.
    const { credentials, linesScanned, leaks } = scanForLeaks();
    for (const leak of leaks) { console.error(`LEAK in ${leak.source}: …${leak.excerpt}`); }
    console.log(`leak scan: ${credentials} credentials, ${linesScanned} outputs scanned: ${leaks.length === 0 ? 1 : 0} passed, ${leaks.length === 0 ? 0 : 1} failed`);
    process.exitCode = failed > 0 || leaks.length > 0 ? 1 : 0;
  });
