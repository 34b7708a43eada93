/**
 * A real, throwaway HTTP proxy for tests: Debian's tinyproxy on loopback, a free port, in the
 * foreground, optionally asking for Basic credentials. Its log (every CONNECT it was asked for)
 * is kept, so tests can see what the proxy saw. Tests that need it call tinyproxyAvailable()
 * first and skip with a message when it is absent; CI installs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './loadBalancer';
import { waitFor } from './waitFor';

export interface Tinyproxy {
  /** http://[user:password@]127.0.0.1:<port> */
  readonly url: string;
  /** The same without credentials. */
  readonly address: string;
  /** Every line the proxy logged so far. */
  log(): string;
  /** The `CONNECT host:port` targets it was asked for, in order. */
  connects(): string[];
  stop(): Promise<void>;
}

export const TINYPROXY_UNAVAILABLE_MESSAGE = 'tinyproxy is not installed (CI installs it): skipping the proxy tests';

export function tinyproxyAvailable(): boolean {
  return tinyproxyPath() !== undefined;
}

export async function startTinyproxy(options: { user?: string; password?: string } = {}): Promise<Tinyproxy> {
  const executable = tinyproxyPath();
  if (!executable) { throw new Error(TINYPROXY_UNAVAILABLE_MESSAGE); }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tinyproxy-test-'));
  const config = join(dir, 'tinyproxy.conf');
  // No ConnectPort line: CONNECT to any port (the fakes listen on random ones). LogLevel Connect logs each request line.
  writeFileSync(config, [
    `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 30', 'MaxClients 64', 'LogLevel Connect',
    ...(options.user ? [`BasicAuth ${options.user} ${options.password ?? ''}`] : []),
  ].join('\n') + '\n');
  let output = '';
  const child: ChildProcess = spawn(executable, ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', chunk => { output += String(chunk); });
  child.stderr?.on('data', chunk => { output += String(chunk); });
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  await waitFor(async () => {
    if (child.exitCode !== null) { throw new Error(`tinyproxy exited (${child.exitCode}): ${output.slice(-1_000)}`); }
    return accepts(port);
  }, `tinyproxy on port ${port}`, 10_000, 50);
  const address = `http://127.0.0.1:${port}`;
  const credentials = options.user ? `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password ?? '')}@` : '';
  return {
    url: `http://${credentials}127.0.0.1:${port}`,
    address,
    log: () => output,
    connects: () => [...output.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map(match => match[1]),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>(resolve => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tinyproxyPath(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap(dir => [join(dir, 'tinyproxy')]);
  return [...onPath, '/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find(candidate => existsSync(candidate));
}

function accepts(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
