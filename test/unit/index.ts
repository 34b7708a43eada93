/** Entry of the unit suite: plain node, no VS Code. */
import { runMochaSuite, testFiles } from '../runMocha';

void runMochaSuite({ suite: 'unit', files: testFiles(__dirname), timeoutMs: 20_000, grep: process.env.MOCHA_GREP })
  .then(failed => { process.exitCode = failed > 0 ? 1 : 0; });
