/**
 * Debian's nginx as the load balancer in front of the replicas, started by the tests on
 * loopback with a configuration of their own (round robin, keep-alive upstreams, the public
 * Host and X-Forwarded-* passed on, as Container Apps ingress or a Kubernetes ingress does).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(path => existsSync(path));

export function nginxAvailable(): boolean {
  return NGINX !== undefined;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface LoadBalancer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startLoadBalancer(upstreamPorts: readonly number[], listenPort?: number): Promise<LoadBalancer> {
  if (!NGINX) {
    throw new Error('nginx is not installed (Debian package nginx)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'entra-mcp-nginx-'));
  const port = listenPort ?? await freePort();
  const runAsRoot = process.getuid?.() === 0 ? 'user root root;\n' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${runAsRoot}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream replicas {
${upstreamPorts.map(upstream => `    server 127.0.0.1:${upstream} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
`);
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', chunk => { stderr += chunk; });
  await waitForPort(port, () => (child.exitCode !== null ? `nginx exited: ${stderr}` : undefined));
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve));
        child.kill('SIGQUIT');
        await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3_000))]);
        if (child.exitCode === null) { child.kill('SIGKILL'); }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something accepts connections on the port; rejects with `failed()` when it says why not. */
export async function waitForPort(port: number, failed: () => string | undefined = () => undefined, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem) { throw new Error(problem); }
    const open = await new Promise<boolean>(resolve => {
      const probe = connect(port, '127.0.0.1');
      probe.once('connect', () => { probe.destroy(); resolve(true); });
      probe.once('error', () => resolve(false));
    });
    if (open) { return; }
    if (Date.now() > deadline) { throw new Error(`nothing listens on port ${port}`); }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}
