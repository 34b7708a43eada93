/**
 * Registers the bundled MCP server with VS Code. `provideMcpServerDefinitions` is called
 * eagerly and must never prompt; the broker starts only in `resolveMcpServerDefinition`,
 * when VS Code is about to launch the server, and its secret is added to the env only then.
 */
import * as vscode from 'vscode';
import { ENV } from '../../shared/env';
import { selectionToEnv } from '../../shared/toolCatalogue';
import { BrokerServer } from '../broker/brokerServer';
import { readSettings, serviceEndpoints } from '../settings';

export const PROVIDER_ID = 'entraMcp.servers';
export const SERVER_LABEL = 'Entra MCP';

export class EntraMcpServerProvider implements vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;

  constructor(
    private readonly serverScript: string,
    private readonly version: string,
    /** Where the server keeps V8's compiled code between starts (the extension's global storage). */
    private readonly compileCacheDir: string,
    private readonly broker: BrokerServer,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Settings that shape the server changed: VS Code re-reads the definition and restarts it. */
  refresh(): void {
    this.changed.fire();
  }

  provideMcpServerDefinitions(): vscode.McpStdioServerDefinition[] {
    // VS Code spawns the server with its own runtime: users may have no `node` on PATH.
    const settings = readSettings();
    // The tool selection travels in the definition: changing it restarts the server with the new list.
    const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1', [ENV.compileCache]: this.compileCacheDir, ...selectionToEnv(settings.tools) };
    try {
      // Endpoints are not secret; listing them here makes a settings change a definition change.
      const endpoints = serviceEndpoints(settings);
      env[ENV.graphEndpoint] = endpoints.graph;
      env[ENV.armEndpoint] = endpoints.arm;
    } catch {
      // Invalid settings are reported when the server is resolved, where the user can act on it.
    }
    return [new vscode.McpStdioServerDefinition(SERVER_LABEL, process.execPath, [this.serverScript], env, this.version)];
  }

  async resolveMcpServerDefinition(server: vscode.McpStdioServerDefinition): Promise<vscode.McpStdioServerDefinition> {
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
      [ENV.broker]: address.path,
      [ENV.brokerSecret]: address.secret,
      [ENV.graphEndpoint]: endpoints.graph,
      [ENV.armEndpoint]: endpoints.arm,
    };
    this.log.info(`Starting the Entra MCP server (Graph ${endpoints.graph}, ARM ${endpoints.arm}).`);
    return server;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
