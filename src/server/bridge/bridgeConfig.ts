import { ENV } from '../../shared/env';
import { parseRemoteUrl } from '../../shared/remoteUrl';
import { readBrokerAddress } from '../config';

/** Bridge mode: this server forwards one remote MCP server's tools, with tokens from the broker. */
export interface BridgeConfig {
  readonly brokerPath: string;
  readonly brokerSecret: string;
  /** The remote MCP endpoint exactly as configured: the broker looks it up by this string. */
  readonly remoteUrl: string;
  /** The MCP name the bridge gives itself: VS Code lists its tools as `mcp_<name>_<tool>`. */
  readonly name: string;
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;

/** Whether the environment asks for bridge mode (the extension sets both remote variables). */
export function isBridgeMode(env: NodeJS.ProcessEnv): boolean {
  return !!env[ENV.remoteUrl];
}

export function readBridgeConfig(env: NodeJS.ProcessEnv): BridgeConfig {
  const broker = readBrokerAddress(env);
  const remoteUrl = env[ENV.remoteUrl] ?? '';
  const refused = parseRemoteUrl(remoteUrl);
  if (typeof refused === 'string') {
    throw new Error(`${ENV.remoteUrl} is refused: ${refused} Check the entry in the "entraMcp.remoteServers" setting.`);
  }
  const name = env[ENV.remoteName] ?? '';
  if (!NAME.test(name)) {
    throw new Error(`${ENV.remoteName} must be lowercase letters, digits and underscores, starting with a letter (got "${name.slice(0, 50)}").`);
  }
  return { ...broker, remoteUrl, name };
}
