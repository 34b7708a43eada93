import { ENV } from '../shared/env';
import { parseHttpsEndpoint } from '../shared/endpoints';
import { ToolSelection, selectionFromEnv } from '../shared/toolCatalogue';

export interface ServerConfig {
  readonly brokerPath: string;
  readonly brokerSecret: string;
  readonly graphEndpoint: string;
  readonly armEndpoint: string;
  readonly tools: ToolSelection;
}

/**
 * Reads the server's configuration from the environment the extension (or a developer's shell)
 * gives it. Errors name the variable and say what to do: the message ends up in VS Code's
 * MCP output when the server fails to start.
 */
export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  return {
    ...readBrokerAddress(env),
    graphEndpoint: parseHttpsEndpoint(required(env, ENV.graphEndpoint), ENV.graphEndpoint),
    armEndpoint: parseHttpsEndpoint(required(env, ENV.armEndpoint), ENV.armEndpoint),
    tools: selectionFromEnv(env),
  };
}

/** Where the broker listens and the secret it expects: what the tool server and the bridge both need. */
export function readBrokerAddress(env: NodeJS.ProcessEnv): { brokerPath: string; brokerSecret: string } {
  const brokerPath = required(env, ENV.broker);
  const brokerSecret = required(env, ENV.brokerSecret);
  if (!/^[0-9a-f]{64,}$/i.test(brokerSecret)) {
    throw new Error(`${ENV.brokerSecret} must be at least 32 random bytes in hex.`);
  }
  return { brokerPath, brokerSecret };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) {
    throw new Error(`${name} is not set. This server is started by the Entra MCP Broker extension in VS Code; ` +
      'to run it by hand, set ENTRA_MCP_BROKER, ENTRA_MCP_BROKER_SECRET, ENTRA_MCP_GRAPH_ENDPOINT and ENTRA_MCP_ARM_ENDPOINT.');
  }
  return value;
}
