/**
 * Registers the bundled MCP server with VS Code, and one definition per remote server the user
 * listed. `provideMcpServerDefinitions` is called eagerly and must never prompt (nor wait on the
 * network: remote servers are listed as last discovered); the broker starts only in
 * `resolveMcpServerDefinition`, when VS Code is about to launch a server, and its secret is
 * added to the env only then.
 *
 * An Entra-protected remote server is reached through the bundled server in bridge mode, not as
 * an HTTP definition: an `McpHttpServerDefinition`'s headers are fixed once it is resolved and
 * stable VS Code has no hook to refresh them (its `authentication` field is a proposed API), so
 * a token there would expire mid-session and stay stale after a 401. The bridge asks the broker
 * for a token on every request instead. A server that signs users in itself (proxy mode) is an
 * HTTP definition: VS Code's own MCP OAuth handles it, and no token of ours is involved.
 *
 * VS Code's `http.proxy` and `http.noProxy` join the server's environment at launch too (as
 * HTTPS_PROXY and NO_PROXY): the proxy URL may hold a password, so the definition carries only
 * a digest of them, which restarts the server when they change.
 */
import * as vscode from 'vscode';
import { ENV } from '../../shared/env';
import { proxyEnv, proxyFingerprint } from '../../shared/proxyEnv';
import { selectionToEnv } from '../../shared/toolCatalogue';
import { BrokerServer } from '../broker/brokerServer';
import { RemoteServerState, RemoteServers } from '../remote/remoteServers';
import { readProxySettings, readSettings, readSystemCertificatesSetting, serviceEndpoints } from '../settings';

export const PROVIDER_ID = 'entraMcp.servers';
export const SERVER_LABEL = 'Entra MCP';

type Definition = vscode.McpStdioServerDefinition | vscode.McpHttpServerDefinition;

export class EntraMcpServerProvider implements vscode.McpServerDefinitionProvider<Definition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;

  constructor(
    private readonly serverScript: string,
    private readonly version: string,
    /** Where the server keeps V8's compiled code between starts (the extension's global storage). */
    private readonly compileCacheDir: string,
    private readonly broker: BrokerServer,
    private readonly log: vscode.LogOutputChannel,
    private readonly remotes: RemoteServers,
  ) {}

  /** Settings that shape the server changed: VS Code re-reads the definition and restarts it. */
  refresh(): void {
    this.changed.fire();
  }

  provideMcpServerDefinitions(): Definition[] {
    return [this.localDefinition(), ...this.remotes.list().flatMap(state => this.remoteDefinition(state))];
  }

  private localDefinition(): vscode.McpStdioServerDefinition {
    const settings = readSettings();
    // The tool selection travels in the definition: changing it restarts the server with the new list.
    const env: Record<string, string> = { ...this.runtimeEnv(), ...selectionToEnv(settings.tools) };
    try {
      // Endpoints are not secret; listing them here makes a settings change a definition change.
      const endpoints = serviceEndpoints(settings);
      env[ENV.graphEndpoint] = endpoints.graph;
      env[ENV.armEndpoint] = endpoints.arm;
    } catch {
      // Invalid settings are reported when the server is resolved, where the user can act on it.
    }
    return new vscode.McpStdioServerDefinition(SERVER_LABEL, process.execPath, [this.serverScript], env, this.version);
  }

  /** VS Code spawns the server with its own runtime: users may have no `node` on PATH. */
  private runtimeEnv(): Record<string, string> {
    const fingerprint = proxyFingerprint(readProxySettings());
    return {
      ELECTRON_RUN_AS_NODE: '1', [ENV.compileCache]: this.compileCacheDir,
      ...(fingerprint ? { [ENV.proxyFingerprint]: fingerprint } : {}),
      ...(readSystemCertificatesSetting() ? {} : { [ENV.systemCertificates]: 'false' }),
    };
  }

  /** Nothing is registered for a server not (yet) found usable; Show Status says why. */
  private remoteDefinition(state: RemoteServerState): Definition[] {
    const discovery = state.discovery;
    if (discovery?.kind === 'proxy') {
      return [new vscode.McpHttpServerDefinition(state.entry.label, vscode.Uri.parse(state.entry.url), {}, this.version)];
    }
    if (discovery?.kind !== 'entra') {
      return [];
    }
    const env = { ...this.runtimeEnv(), [ENV.remoteUrl]: state.entry.url, [ENV.remoteName]: state.name };
    // The scope is part of the version: a server that now advertises another is restarted.
    return [new vscode.McpStdioServerDefinition(state.entry.label, process.execPath, [this.serverScript], env, `${this.version}+${discovery.scope}`)];
  }

  async resolveMcpServerDefinition(server: Definition): Promise<Definition> {
    if (server instanceof vscode.McpHttpServerDefinition) {
      return server;
    }
    if (server.env[ENV.remoteUrl]) {
      return this.resolveBridge(server);
    }
    let endpoints;
    try {
      endpoints = serviceEndpoints(readSettings());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Cannot start the Entra MCP server: ${message}`);
      void vscode.window.showErrorMessage(`Entra MCP: ${message}`, 'Open Settings').then(choice => {
        if (choice) { void vscode.commands.executeCommand('workbench.action.openSettings', 'entraMcp'); }
      });
      throw error;
    }
    const address = await this.broker.start();
    server.env = {
      ...server.env,
      ...proxyEnv(readProxySettings()),
      [ENV.broker]: address.path,
      [ENV.brokerSecret]: address.secret,
      [ENV.graphEndpoint]: endpoints.graph,
      [ENV.armEndpoint]: endpoints.arm,
    };
    this.log.info(`Starting the Entra MCP server (Graph ${endpoints.graph}, ARM ${endpoints.arm}).`);
    return server;
  }

  private async resolveBridge(server: vscode.McpStdioServerDefinition): Promise<vscode.McpStdioServerDefinition> {
    const address = await this.broker.start();
    server.env = { ...server.env, ...proxyEnv(readProxySettings()), [ENV.broker]: address.path, [ENV.brokerSecret]: address.secret };
    this.log.info(`Starting the bridge to the remote server "${server.label}" (${String(server.env[ENV.remoteUrl])}).`);
    return server;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
