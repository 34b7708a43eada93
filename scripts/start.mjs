// `npm start`: builds the VSIX and opens it in a local VS Code: desktop `code` if it is on
// PATH, otherwise the browser VS Code (code-server) the tests use, at http://127.0.0.1:PORT.
//   PORT=8080 npm start   pick the port of the browser VS Code (default: 8080, or a free one)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, HOST_DIR, ensureVsCodeHost, freePort } from './vscodeHost.mjs';
import { packageVsix } from './package.mjs';

function onPath(command) {
  return spawnSync(process.platform === 'win32' ? 'where' : 'which', [command], { stdio: 'ignore' }).status === 0;
}

function portIsFree(port) {
  return new Promise(resolve => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function choosePort() {
  const wanted = Number(process.env.PORT ?? 8080);
  return await portIsFree(wanted) ? wanted : freePort();
}

function openInDesktop(vsix) {
  const shell = process.platform === 'win32';
  spawnSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit', shell });
  spawnSync('code', [ROOT], { stdio: 'inherit', shell });
  console.log('Opened VS Code with Entra MCP Broker installed. Run "Entra MCP: Sign In" from the Command Palette.');
}

async function openInBrowserVsCode(vsix) {
  const host = ensureVsCodeHost();
  const profile = join(HOST_DIR, 'profile');
  mkdirSync(profile, { recursive: true });
  writeFileSync(join(profile, 'config.yaml'), 'auth: none\n');
  const port = await choosePort();
  const common = ['--auth', 'none', '--config', join(profile, 'config.yaml'), '--user-data-dir', join(profile, 'user-data'),
    '--extensions-dir', join(profile, 'extensions'), '--disable-telemetry', '--disable-update-check'];
  spawnSync(host.node, [host.codeServer, ...common, '--install-extension', vsix, '--force'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const child = spawn(host.node, [host.codeServer, ...common, '--bind-addr', `127.0.0.1:${port}`, ROOT], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const stop = () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ROOT)}`;
  console.log(`\nVS Code (browser) with Entra MCP Broker installed: ${url}\nPress Ctrl+C to stop.\n`);
  if (process.env.DISPLAY && existsSync(host.chromium)) {
    spawn(host.chromium, [`--app=${url}`, `--user-data-dir=${join(profile, 'browser')}`, '--no-first-run'], { stdio: 'ignore', detached: true }).unref();
  }
  child.on('exit', code => process.exit(code ?? 0));
}

const vsix = packageVsix();
if (onPath('code') && !process.env.ENTRA_MCP_BROWSER_VSCODE) {
  openInDesktop(vsix);
} else {
  await openInBrowserVsCode(vsix);
}
