// Runs the integration suite inside a real VS Code: code-server (VS Code 1.139) driven by
// headless Chromium through playwright-core. Two runs:
//   extension  the extension under development, with a test-only `microsoft` identity
//              provider in place of the built-in one, against a local fake Graph;
//   vsix       the packaged VSIX installed into the host, then activated.
// Each run prints `integration-<suite>: N passed, N failed`. Temp folders are removed on
// success and kept (path printed) on failure.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { ROOT, CODE_SERVER_DIR, ensureVsCodeHost, freePort } from './vscodeHost.mjs';
import { packageVsix } from './package.mjs';

const RUN_TIMEOUT_MS = 8 * 60_000;
/** Workbench console lines that are the offline host's, not ours; kept in the log file on failure. */
const WORKBENCH_NOISE = /AgentHost|ChatModelSelection|AccountPolicyGate|ENOTFOUND|open-vsx|workbench\.js:\d+|^\s+at |Resolved connection token|Creating a socket|^\s*$/;
const { publisher, name } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const EXTENSION_ID = `${publisher}.${name}`;
const FAKE_AUTH = join(ROOT, 'test', 'fixtures', 'fake-auth');
const TESTS_ENTRY = join(ROOT, 'out', 'test', 'integration', 'index.js');

/**
 * VS Code asks before an extension may use an account; that dialog is refused in test mode.
 * The host's product configuration can trust an extension for a provider (as the product does
 * for Git and Copilot); this test-only host trusts the extension under test for `microsoft`.
 */
function trustExtensionUnderTest() {
  const workbench = join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'vs', 'code', 'browser', 'workbench', 'workbench.js');
  const source = readFileSync(workbench, 'utf8');
  if (source.includes(`trustedExtensionAuthAccess:["${EXTENSION_ID}",`)) {
    return;
  }
  const patched = source.replace('trustedExtensionAuthAccess:[', `trustedExtensionAuthAccess:["${EXTENSION_ID}",`);
  if (patched === source) {
    throw new Error('Could not find trustedExtensionAuthAccess in the test host workbench: has the code-server version changed?');
  }
  writeFileSync(workbench, patched);
}

function packageFakeAuth() {
  const out = join(ROOT, '.vscode-test', 'fake-microsoft-auth.vsix');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', out],
    { cwd: FAKE_AUTH, stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

async function waitForHealth(port, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) { throw new Error(`code-server exited early (${child.exitCode})`); }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) { return; }
    } catch { /* not up yet */ }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  throw new Error('code-server did not answer /healthz within 60 s');
}

const TEST_CA = join(ROOT, 'test', 'fixtures', 'tls', 'ca.pem');
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/** The system's CA bundle plus the test CA, for SSL_CERT_FILE (which replaces the bundle OpenSSL reads). */
function systemStoreWithTestCa(temp) {
  const system = SYSTEM_CA_BUNDLES.find(path => existsSync(path));
  const bundle = join(temp, 'ca-bundle.pem');
  writeFileSync(bundle, `${system ? readFileSync(system, 'utf8') : ''}\n${readFileSync(TEST_CA, 'utf8')}`);
  return bundle;
}

function hostEnv(temp, extra) {
  const env = { ...process.env, ...extra };
  for (const key of Object.keys(env)) {
    if (key.startsWith('npm_') || key.startsWith('VSCODE_')) { delete env[key]; }
  }
  Object.assign(env, {
    TMPDIR: join(temp, 'tmp'),
    XDG_CONFIG_HOME: join(temp, 'config'),
    XDG_DATA_HOME: join(temp, 'data'),
    XDG_CACHE_HOME: join(temp, 'cache'),
    XDG_RUNTIME_DIR: join(temp, 'run'),
    // The fakes' certificate is trusted as a corporate CA would be: by Node (the MCP servers) and,
    // for VS Code's own fetch in the extension host, which reads only the system store, by that store.
    NODE_EXTRA_CA_CERTS: TEST_CA,
    SSL_CERT_FILE: systemStoreWithTestCa(temp),
    VSCODE_SKIP_BUILTIN_EXTENSIONS: 'vscode.microsoft-authentication',
    ...extra,
  });
  for (const dir of ['tmp', 'config', 'data', 'cache', 'run']) {
    mkdirSync(join(temp, dir), { recursive: true, mode: 0o700 });
  }
  return env;
}

function codeServerArgs(temp, port) {
  writeFileSync(join(temp, 'config.yaml'), 'auth: none\n');
  return [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--config', join(temp, 'config.yaml'),
    '--user-data-dir', join(temp, 'ud'), '--extensions-dir', join(temp, 'ext'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--vscode-option', 'enable-smoke-test-driver',
  ];
}

async function runSuite({ suite, host, devPaths, install }) {
  const temp = mkdtempSync(join(tmpdir(), `entra-mcp-it-${suite}-`));
  const port = await freePort();
  // The logs folder is scanned for leaked secrets and tokens by the last integration test.
  const env = hostEnv(temp, { INTEGRATION_SUITE: suite, INTEGRATION_LOGS_DIR: join(temp, 'ud', 'logs') });
  const args = codeServerArgs(temp, port);
  for (const vsix of install) {
    execFileSync(host.node, [host.codeServer, ...args, '--install-extension', vsix], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const workspace = join(temp, 'workspace');
  mkdirSync(workspace);
  const child = spawn(host.node, [host.codeServer, ...args, workspace], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const serverLog = [];
  const hostLog = [];
  child.stdout.on('data', chunk => serverLog.push(chunk.toString()));
  child.stderr.on('data', chunk => serverLog.push(chunk.toString()));
  let browser;
  let exitCode = 1;
  try {
    await waitForHealth(port, child);
    browser = await chromium.launch({
      executablePath: host.chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await (await browser.newContext()).newPage();
    let resolveExit;
    const exited = new Promise(resolve => { resolveExit = resolve; });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = format(...(Array.isArray(args) ? args : [args]));
      hostLog.push(line);
      if (!WORKBENCH_NOISE.test(line)) { (type === 'error' ? console.error : console.log)(line); }
    });
    await page.exposeFunction('codeAutomationExit', code => resolveExit(code));
    const remote = path => `vscode-remote://127.0.0.1:${port}${path}`;
    const payload = [
      ...devPaths.map(path => ['extensionDevelopmentPath', remote(path)]),
      ['extensionTestsPath', remote(TESTS_ENTRY)],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url);
    const timeout = new Promise(resolve => setTimeout(() => resolve('timeout'), RUN_TIMEOUT_MS));
    const result = await Promise.race([exited, timeout]);
    if (result === 'timeout') {
      console.error(`integration-${suite}: timed out after ${RUN_TIMEOUT_MS / 1000} s`);
      console.log(`integration-${suite}: 0 passed, 1 failed`);
    } else {
      exitCode = Number(result);
    }
  } catch (error) {
    console.error(`integration-${suite}: ${error.stack ?? error}`);
    console.log(`integration-${suite}: 0 passed, 1 failed`);
  } finally {
    await browser?.close().catch(() => undefined);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  if (exitCode === 0) {
    rmSync(temp, { recursive: true, force: true });
  } else {
    writeFileSync(join(temp, 'code-server.log'), serverLog.join(''));
    writeFileSync(join(temp, 'workbench-console.log'), hostLog.join('\n'));
    console.error(`integration-${suite}: failed; logs kept in ${temp}`);
  }
  return exitCode;
}

const host = ensureVsCodeHost();
trustExtensionUnderTest();
const vsix = packageVsix();
const fakeAuthVsix = packageFakeAuth();
let failures = 0;
// The host loads one development extension reliably; the fake provider is installed instead.
failures += await runSuite({ suite: 'extension', host, devPaths: [ROOT], install: [fakeAuthVsix] }) === 0 ? 0 : 1;
failures += await runSuite({ suite: 'vsix', host, devPaths: [FAKE_AUTH], install: [vsix] }) === 0 ? 0 : 1;
process.exit(failures === 0 ? 0 : 1);
