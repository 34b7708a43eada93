// Bundles the extension (vscode external) and the MCP server (self-contained) into dist/.
// Types are checked by `tsc --noEmit`; esbuild only bundles.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** Prints errors in the shape VS Code's esbuild problem matcher reads. */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log(`[${watch ? 'watch' : 'build'}] started`));
    build.onEnd(result => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) { console.error(`    ${location.file}:${location.line}:${location.column}:`); }
      }
      console.log(`[${watch ? 'watch' : 'build'}] finished`);
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: production,
  sourcemap: production ? 'external' : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
  plugins: [problemMatcher],
};

/**
 * Captures the server's answers to `initialize` and `tools/list` (dist/manifest.json) by running
 * the build-only printer bundle: the bootstrap answers from them while the server loads.
 */
const printerDir = mkdtempSync(join(tmpdir(), 'entra-mcp-manifest-'));
const printer = join(printerDir, 'printManifest.js');
const startupManifest = {
  name: 'startup-manifest',
  setup(build) {
    build.onEnd(result => {
      if (result.errors.length) { return; }
      const printed = spawnSync(process.execPath, [printer], { encoding: 'utf8' });
      if (printed.status !== 0) {
        console.error(`✘ [ERROR] capturing the startup manifest failed:\n${printed.stderr}`);
        process.exitCode = 1;
        return;
      }
      writeFileSync('dist/manifest.json', printed.stdout);
    });
  },
};

const serverDefines = { SERVER_VERSION: JSON.stringify(version) };
const contexts = await Promise.all([
  esbuild.context({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  // The small entry VS Code starts; it loads dist/server-main.js at run time.
  esbuild.context({ ...common, entryPoints: ['src/server/bootstrap.ts'], outfile: 'dist/server.js', define: serverDefines }),
  esbuild.context({ ...common, entryPoints: ['src/server/main.ts'], outfile: 'dist/server-main.js', define: serverDefines }),
  // The remote server (not in the VSIX): `node dist/remote.js`, also the package's `entra-mcp-server` bin.
  esbuild.context({ ...common, entryPoints: ['src/remote/main.ts'], outfile: 'dist/remote.js', define: serverDefines, banner: { js: '#!/usr/bin/env node' } }),
  esbuild.context({ ...common, entryPoints: ['src/server/startup/printManifest.ts'], outfile: printer, sourcemap: false, define: serverDefines, plugins: [...common.plugins, startupManifest] }),
]);

if (watch) {
  await Promise.all(contexts.map(context => context.watch()));
} else {
  await Promise.all(contexts.map(context => context.rebuild()));
  await Promise.all(contexts.map(context => context.dispose()));
  rmSync(printerDir, { recursive: true, force: true });
}
