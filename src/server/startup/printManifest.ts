/**
 * Build-time entry (esbuild.mjs bundles and runs it, it never ships): prints the startup
 * manifest captured from the real server, for dist/manifest.json.
 */
import { describeServer } from './describeServer';

declare const SERVER_VERSION: string;

describeServer(SERVER_VERSION).then(manifest => process.stdout.write(JSON.stringify(manifest)), error => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
