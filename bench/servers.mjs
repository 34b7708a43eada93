// The MCP servers the cold-start and memory benchmarks compare: ours, two popular Microsoft 365
// servers from npm ("peers"), each configured to reach `tools/list` offline without waiting
// for a sign-in. Every one runs under the benchmark's own node binary (process.execPath),
// started from its entry script (no npx or shell shim in between), so only the servers differ.
import { join } from 'node:path';
import {
  ROOT, ensurePeers, peerPackageDir, requireBuilt, scratchDir, serverEnv, spawnMcpToToolsList,
} from './lib.mjs';

/**
 * Peers get a minimal environment and an empty scratch directory as HOME, XDG config dir, log
 * dir and working directory: no token cache, account or `.env` of the machine's user is read,
 * and nothing they write is left behind.
 */
function peerEnvironment(home, extra) {
  return { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: join(home, '.config'), ...extra };
}

/** Each server as { name, describe, start(options) → spawnMcpToToolsList's result }. */
export function mcpServers() {
  const versions = ensurePeers();
  const home = scratchDir('entra-mcp-bench-home-');
  const server = (name, describe, script, args, env, cwd) => ({
    name, describe,
    start: options => spawnMcpToToolsList(process.execPath, [script, ...args], env, { cwd, ...options }),
  });
  return [
    // Ours: the env the extension passes, including the V8 compile cache directory it keeps in its
    // storage (used from Node 22 on; the warm-up round fills it). The broker socket need not exist
    // until a tool runs.
    server('ours (dist/server.js)',
      'bundled server; ENTRA_MCP_* env as VS Code passes it (compile cache in a temp dir), no broker listening; default tool selection (read-only tools)',
      requireBuilt(join(ROOT, 'dist', 'server.js'), 'npm run build:production'), [],
      serverEnv({ ENTRA_MCP_COMPILE_CACHE: join(home, 'compile-cache') }), ROOT),
    // Lokka: USE_CLIENT_TOKEN=true with no ACCESS_TOKEN starts in "client-provided token" mode,
    // which skips AuthManager.initialize() (no MSAL, no interactive or client-credentials sign-in);
    // a token would later be handed over with its set-access-token tool. This is the mode closest
    // to ours (the token comes from outside). Lokka appends its log to build/mcp-server.log in its
    // own package directory; that cannot be redirected.
    server(`@merill/lokka ${versions['@merill/lokka']}`,
      'build/main.js; env USE_CLIENT_TOKEN=true, no ACCESS_TOKEN (client-provided-token mode: no sign-in at start)',
      join(peerPackageDir('@merill/lokka'), 'build', 'main.js'), [], peerEnvironment(home, { USE_CLIENT_TOKEN: 'true' }), home),
    // Softeria: stdio mode never signs in at start (device-code login is a separate --login run or a
    // tool); it only loads its MSAL cache, from the empty scratch config dir here, with the OS
    // keychain (keytar) turned off and logs in the scratch dir. --org-mode --read-only lists the
    // work-account tools (Teams, SharePoint, …) without writes: what ours lists by default.
    server(`@softeria/ms-365-mcp-server ${versions['@softeria/ms-365-mcp-server']}`,
      'dist/index.js --org-mode --read-only; env MS365_MCP_USE_KEYTAR=false, HOME/XDG_CONFIG_HOME/MS365_MCP_LOG_DIR in an empty temp dir',
      join(peerPackageDir('@softeria/ms-365-mcp-server'), 'dist', 'index.js'), ['--org-mode', '--read-only'],
      peerEnvironment(home, { MS365_MCP_USE_KEYTAR: 'false', MS365_MCP_LOG_DIR: join(home, 'ms365-logs') }), home),
  ];
}
