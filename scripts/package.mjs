// Builds the production bundles and packages the VSIX (`npm run package`); prints its size.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './vscodeHost.mjs';

export function packageVsix(outDir = join(ROOT, '.vscode-test')) {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  mkdirSync(outDir, { recursive: true });
  const vsix = join(outDir, `${name}-${version}.vsix`);
  // vsce runs `vscode:prepublish` (the production build) first. Dependencies are bundled by esbuild, so vsce must not add node_modules.
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '-o', vsix],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`VSIX: ${vsix} (${(statSync(vsix).size / 1024).toFixed(0)} KiB)`);
  return vsix;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  packageVsix(process.argv[2] ?? ROOT);
}
