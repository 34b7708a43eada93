/**
 * A fleet with real parts, as the fleet tests and benchmarks start it: Debian's redis-server,
 * three replicas of dist/remote.js sharing it, and nginx in front, with the fake Entra ID and
 * the fake Graph.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FakeEntra, FakeEntraApp } from './fakeEntra';
import { FakeGraph } from './fakeGraph';
import { recordVisible, rememberCredential } from './leakWatch';
import { LoadBalancer, freePort, nginxAvailable, startLoadBalancer } from './loadBalancer';
import { redisAvailable, startRedis } from './redisServer';
import { SERVER_CLIENT_ID, SERVER_SECRET, oboOnlyGraph, remoteEnv } from './remoteHarness';
import { waitFor } from './waitFor';

const REMOTE = join(__dirname, '..', '..', '..', 'dist', 'remote.js');
const CA = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls', 'ca.pem');
export const FLEET_PREFIX = 'fleet-test:';

export interface Replica {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
}

export interface Fleet {
  readonly entra: FakeEntra;
  readonly app: FakeEntraApp;
  readonly graph: FakeGraph;
  readonly redis: Awaited<ReturnType<typeof startRedis>>;
  readonly balancer: LoadBalancer;
  readonly replicas: Replica[];
  /** The MCP endpoint behind the load balancer. */
  readonly url: string;
  stop(): Promise<void>;
}

export function fleetAvailable(): boolean {
  return redisAvailable() && nginxAvailable();
}

export async function startFleet(env: Record<string, string> = {}, size = 3): Promise<Fleet> {
  const app: FakeEntraApp = { clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET };
  const entra = new FakeEntra({ apps: [app] });
  await entra.start();
  const graph = oboOnlyGraph(entra);
  await graph.start();
  const password = randomBytes(12).toString('hex');
  const encryptionKey = randomBytes(32).toString('base64');
  rememberCredential(password);
  rememberCredential(encryptionKey);
  const redis = await startRedis({ password });
  const lbPort = await freePort();
  const publicUrl = `http://127.0.0.1:${lbPort}/mcp`;
  app.redirectUris = [`http://127.0.0.1:${lbPort}/auth/callback`];
  const replicas: Replica[] = [];
  for (let index = 0; index < size; index++) {
    replicas.push(await startReplica(await freePort(), remoteEnv(entra, graph, {
      ENTRA_MCP_TRUST_PROXY: 'true', ENTRA_MCP_PUBLIC_URL: publicUrl, ENTRA_MCP_REDIS_URL: redis.url, ENTRA_MCP_REDIS_PREFIX: FLEET_PREFIX,
      ENTRA_MCP_TOKEN_ENCRYPTION_KEY: encryptionKey, ENTRA_MCP_RATE_LIMIT: '0', ...env,
    })));
  }
  const balancer = await startLoadBalancer(replicas.map(replica => replica.port), lbPort);
  return {
    entra, app, graph, redis, balancer, replicas, url: publicUrl,
    stop: async () => {
      await balancer.stop();
      for (const { child } of replicas) {
        if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); }
      }
      await redis.stop();
      await graph.stop();
      await entra.stop().catch(() => undefined);
    },
  };
}

async function startReplica(port: number, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [REMOTE], {
    env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: CA, ...env, ENTRA_MCP_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', chunk => { output += chunk; recordVisible(`replica ${port} stdout`, String(chunk)); });
  child.stderr?.on('data', chunk => { output += chunk; recordVisible(`replica ${port} stderr`, String(chunk)); });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, `replica ${port} ready`, 15_000);
  return { port, child, output: () => output };
}
