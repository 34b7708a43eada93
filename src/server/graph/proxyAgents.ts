/**
 * Which connection pool an HTTPS request goes out on: direct, or through the proxy the
 * environment names (`HTTPS_PROXY` / `https_proxy`, else `ALL_PROXY`; `NO_PROXY` exempts hosts,
 * as curl and most tools read them; `proxy-from-env` applies those rules). The extension sets
 * them from VS Code's `http.proxy` and `http.noProxy`. Through a proxy, the request is a
 * `CONNECT` tunnel: TLS runs end to end with the real host, so the proxy sees the host name and
 * never the token.
 */
import { Agent, AgentOptions } from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

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
  /** The proxy setting carries credentials (sent as Basic Proxy-Authorization). */
  readonly withCredentials?: boolean;
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
  const withCredentials = proxy.username !== '' || proxy.password !== '';
  if (fresh) {
    return { agent: new HttpsProxyAgent(proxy) as unknown as Agent, proxy: shown, withCredentials };
  }
  let agent = throughProxy.get(proxy.href);
  if (!agent) {
    agent = new HttpsProxyAgent(proxy, KEPT_ALIVE) as unknown as Agent;
    throughProxy.set(proxy.href, agent);
  }
  return { agent, proxy: shown, withCredentials };
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
