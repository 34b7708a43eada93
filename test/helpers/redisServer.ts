/**
 * A real, throwaway redis-server for tests: loopback only, a free port, no persistence (so a
 * restart loses everything, as a crash of a cache-only Redis does), optionally a password.
 * Tests that need it call redisAvailable() first and skip with a message when it is absent;
 * CI installs it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from './waitFor';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Stops it for good (SIGTERM) and removes its directory. */
  stop(): Promise<void>;
  /** Stops it if running and starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGKILL: Redis gone without warning, until restart(). */
  kill(): Promise<void>;
}

export const REDIS_UNAVAILABLE_MESSAGE = 'redis-server is not installed (CI installs it): skipping the Redis tests';

export function redisAvailable(): boolean {
  return redisServerPath() !== undefined;
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const executable = redisServerPath();
  if (!executable) { throw new Error(REDIS_UNAVAILABLE_MESSAGE); }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
  let child: ChildProcess | undefined = await launch(executable, port, dir, options.password);
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    async stop() {
      await terminate(child, 'SIGTERM');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(child, 'SIGTERM');
      child = await launch(executable, port, dir, options.password);
    },
    async kill() {
      await terminate(child, 'SIGKILL');
      child = undefined;
    },
  };
}

function redisServerPath(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).map(dir => join(dir, 'redis-server'));
  return [...onPath, '/usr/bin/redis-server'].find(candidate => existsSync(candidate));
}

/** Asks the OS for a free port, then lets it go for redis-server (a tiny race, harmless on loopback). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')));
    });
  });
}

async function launch(executable: string, port: number, dir: string, password?: string): Promise<ChildProcess> {
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  if (password !== undefined) { args.push('--requirepass', password); }
  // Output is kept for a failure message only: it never reaches the test's own output.
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', chunk => { output = (output + String(chunk)).slice(-2_000); });
  child.stderr?.on('data', chunk => { output = (output + String(chunk)).slice(-2_000); });
  const killOnExit = (): void => { child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) { throw new Error(`redis-server exited (${child.exitCode}): ${output}`); }
      return answersPing(port, password);
    }, `redis-server on port ${port}`, 10_000, 50);
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw error;
  }
  return child;
}

function terminate(child: ChildProcess | undefined, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) { return Promise.resolve(); }
  return new Promise(resolve => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** One raw RESP exchange (AUTH if needed, then PING): true once the server answers PONG. */
function answersPing(port: number, password?: string): Promise<boolean> {
  return new Promise(resolve => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.on('data', chunk => {
      reply += String(chunk);
      if (reply.includes('+PONG')) { finish(true); }
      else if (reply.includes('-')) { finish(false); }
    });
    socket.once('connect', () => {
      const commands = password === undefined ? [['PING']] : [['AUTH', password], ['PING']];
      socket.write(commands.map(resp).join(''));
    });
  });
}

function resp(command: string[]): string {
  return `*${command.length}\r\n` + command.map(part => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('');
}
