/**
 * Which connection pool an HTTPS request goes out on: direct, or through the proxy the
 * environment names (`HTTPS_PROXY` / `https_proxy`, else `ALL_PROXY`; `NO_PROXY` exempts hosts,
 * as curl and most tools read them; `proxy-from-env` applies those rules). The extension sets
 * them from VS Code's `http.proxy` and `http.noProxy`. Through a proxy, the request is a
 * `CONNECT` tunnel: TLS runs end to end with the real host, so the proxy sees the host name and
 * never the token. The proxy's own credentials are those in its URL (Basic), else
 * ENTRA_MCP_PROXY_AUTHORIZATION (VS Code's `http.proxyAuthorization`), sent on the CONNECT only.
 */
import { Agent, AgentOptions } from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { ENV } from '../../shared/env';

/**
 * Connections idle longer than this are closed by us before a server's usual idle timeout
 * (Graph and ARM sit behind front ends that keep 60 s or more; a server's own Keep-Alive
 * hint, when shorter, is honoured by Node's agent).
 */
const IDLE_CONNECTION_MS = 30_000;
const KEPT_ALIVE: AgentOptions = { keepAlive: true, scheduling: 'lifo', timeout: IDLE_CONNECTION_MS };

export interface Route {
  readonly agent: Agent | false;
  /** The proxy as it may be shown (scheme, host and port: never its credentials); undefined when direct. */
  readonly proxy?: string;
  /** Credentials go to the proxy: from its URL (`url`) or from http.proxyAuthorization (`setting`). */
  readonly credentials?: 'url' | 'setting';
}

const direct = new Agent(KEPT_ALIVE);
const throughProxy = new Map<string, Agent>();

/** The route for `url`; `fresh` asks for a connection of its own (a retry after a dropped one). */
export function routeFor(url: URL, fresh = false): Route {
  const proxyUrl = getProxyForUrl(url.href);
  if (!proxyUrl) {
    return { agent: fresh ? false : direct };
  }
  const proxy = parseProxy(proxyUrl);
  const shown = `${proxy.protocol}//${proxy.host}`;
  // https-proxy-agent puts the URL's credentials in place of any header given: the URL's win.
  const inUrl = proxy.username !== '' || proxy.password !== '';
  const authorization = inUrl ? undefined : proxyAuthorization();
  const credentials = inUrl ? 'url' : authorization ? 'setting' : undefined;
  const headers = authorization ? { 'Proxy-Authorization': authorization } : undefined;
  if (fresh) {
    return { agent: new HttpsProxyAgent(proxy, { headers }) as unknown as Agent, proxy: shown, credentials };
  }
  const key = `${proxy.href}\u0000${authorization ?? ''}`;
  let agent = throughProxy.get(key);
  if (!agent) {
    agent = new HttpsProxyAgent(proxy, { ...KEPT_ALIVE, headers }) as unknown as Agent;
    throughProxy.set(key, agent);
  }
  return { agent, proxy: shown, credentials };
}

/** ENTRA_MCP_PROXY_AUTHORIZATION, checked to be one header value (it is never echoed: it is a credential). */
function proxyAuthorization(): string | undefined {
  const value = process.env[ENV.proxyAuthorization]?.trim();
  if (!value) {
    return undefined;
  }
  if (/[\r\n\0]/.test(value)) {
    throw new ProxySettingError('VS Code\'s http.proxyAuthorization setting (ENTRA_MCP_PROXY_AUTHORIZATION) holds a line break; it must be one header value such as "Basic dXNlcjpwYXNz"');
  }
  return value;
}

export class ProxySettingError extends Error {
  readonly code = 'EPROXYSETTING';
}

/** Only http:// and https:// proxies; the setting is never echoed (it may carry a password). */
function parseProxy(value: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw new ProxySettingError('the proxy setting (VS Code\'s http.proxy, or HTTPS_PROXY) is not an http:// or https:// URL such as http://proxy.contoso.com:8080');
  }
  return parsed;
}
