/**
 * VS Code's proxy settings as the environment the bundled server reads (src/server/graph/
 * proxyAgents.ts, through `proxy-from-env`). Both spellings are set: that library, like curl,
 * prefers the lower-case variable, which VS Code's own environment may already carry.
 * `http.proxyAuthorization` travels as ENTRA_MCP_PROXY_AUTHORIZATION, read by proxyAgents alone.
 */
import { createHash } from 'node:crypto';
import { ENV } from './env';

export interface ProxySettings {
  /** `http.proxy`: http://[user:password@]host:port, or empty to use the environment's. */
  readonly proxy: string;
  /** `http.noProxy`: hosts (or `.domain` suffixes) reached directly. */
  readonly noProxy: readonly string[];
  /** `http.proxyAuthorization`: the whole Proxy-Authorization value (`Basic …`, `Bearer …`), or empty. */
  readonly authorization?: string;
}

export function proxyEnv(settings: ProxySettings): Record<string, string> {
  const env: Record<string, string> = {};
  const proxy = settings.proxy.trim();
  if (proxy) {
    env.HTTPS_PROXY = proxy;
    env.https_proxy = proxy;
  }
  const noProxy = settings.noProxy.map(host => host.trim()).filter(Boolean).join(',');
  if (noProxy) {
    env.NO_PROXY = noProxy;
    env.no_proxy = noProxy;
  }
  const authorization = settings.authorization?.trim();
  if (authorization) {
    env[ENV.proxyAuthorization] = authorization;
  }
  return env;
}

/**
 * Changes whenever the environment the settings make does, and says nothing of them (the proxy URL may hold a password):
 * the server's definition carries this, so VS Code restarts it on a change, and the settings
 * themselves join its environment only when it starts.
 */
export function proxyFingerprint(settings: ProxySettings): string {
  const env = proxyEnv(settings);
  return Object.keys(env).length > 0 ? createHash('sha256').update(JSON.stringify(env)).digest('hex').slice(0, 16) : '';
}
