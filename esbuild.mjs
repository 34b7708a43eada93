// Bundles the extension (vscode external) and the MCP server (self-contained) into dist/.
// Types are checked by `tsc --noEmit`; esbuild only bundles.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';

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

const contexts = await Promise.all([
  esbuild.context({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.context({ ...common, entryPoints: ['src/server/main.ts'], outfile: 'dist/server.js', define: { SERVER_VERSION: JSON.stringify(version) } }),
]);

if (watch) {
  await Promise.all(contexts.map(context => context.watch()));
} else {
  await Promise.all(contexts.map(context => context.rebuild()));
  await Promise.all(contexts.map(context => context.dispose()));
}
