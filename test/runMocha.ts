/**
 * Runs a mocha suite programmatically and prints the plain closing line CI reads:
 * `<suite>: N passed, N failed`. Used for the unit suite in node and, through run(), for
 * the integration suite inside the VS Code extension host.
 */
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SuiteOptions {
  suite: string;
  files: string[];
  timeoutMs: number;
  grep?: string;
  log?: (line: string) => void;
}

export function runMochaSuite(options: SuiteOptions): Promise<number> {
  const log = options.log ?? (line => console.log(line));
  const mocha = new Mocha({ ui: 'bdd', timeout: options.timeoutMs, color: false, reporter: 'spec' });
  if (options.grep) { mocha.grep(options.grep); }
  for (const file of options.files) { mocha.addFile(file); }
  return new Promise(resolve => {
    let passed = 0;
    let failed = 0;
    const runner = mocha.run(() => {
      log(`${options.suite}: ${passed} passed, ${failed} failed`);
      resolve(failed);
    });
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++);
  });
}

export function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(file => file.endsWith('.test.js')).sort().map(file => join(dir, file));
}
