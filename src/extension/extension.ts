/**
 * Activation only wires: the log and audit trail, the token service on VS Code's Microsoft
 * sign-in, the broker, the MCP server definition provider, commands and the status bar.
 */
import * as vscode from 'vscode';
import { allowedScopesFor } from '../shared/toolCatalogue';
import { createAudit } from './audit';
import { TokenCache } from './auth/tokenCache';
import { TokenService } from './auth/tokenService';
import { BrokerServer } from './broker/brokerServer';
import { ScopeAllowList } from '../shared/scopes';
import { registerCommands } from './commands';
import { confirmSignIn } from './confirmSignIn';
import { EntraMcpServerProvider, PROVIDER_ID } from './mcp/serverDefinitionProvider';
import { RemoteServers } from './remote/remoteServers';
import { affectsRemoteServers, affectsServerDefinition, affectsTokens, loginEndpoint, onIgnoredWorkspaceSetting, readSettings } from './settings';
import { createStatusBarItem } from './statusBar';

/** How long the broker outlives its last server, so a quick restart reuses it. */
const BROKER_IDLE_GRACE_MS = 30_000;

let stopBroker: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const version = String(context.extension.packageJSON.version);
  const log = vscode.window.createOutputChannel('Entra MCP', { log: true });
  const audit = createAudit(log);
  onIgnoredWorkspaceSetting(setting => log.warn(`The workspace sets ${setting}; it is ignored: only your user settings decide where tokens go and what they may do.`));
  const tokens = new TokenService({
    getSession: (providerId, scopes, options) => vscode.authentication.getSession(providerId, scopes as readonly string[] | vscode.AuthenticationWwwAuthenticateRequest, options),
    cache: new TokenCache(context.secrets, detail => log.warn(detail)),
    state: context.globalState,
    settings: readSettings,
    confirmSignIn,
    audit,
  });
  const remotes = new RemoteServers({
    entries: () => readSettings().remoteServers,
    loginEndpoint: () => loginEndpoint(readSettings()),
    tenant: () => readSettings().tenant,
    getToken: params => tokens.getToken(params),
    audit,
  });
  let idleTimer: NodeJS.Timeout | undefined;
  const broker = new BrokerServer({
    extensionVersion: version,
    audit,
    handlers: {
      getToken: params => tokens.getToken(params),
      status: () => tokens.status(),
      disallowedScopes: (tool, scopes) => {
        const settings = readSettings();
        return new ScopeAllowList(allowedScopesFor(tool, settings.additionalScopes, settings.tools)).disallowed(scopes);
      },
      getRemoteToken: params => remotes.getRemoteToken(params),
      remoteOutcome: params => remotes.recordOutcome(params),
    },
    onIdle: () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => { if (broker.connectionCount === 0) { void broker.stop(); } }, BROKER_IDLE_GRACE_MS);
    },
  });
  stopBroker = () => { clearTimeout(idleTimer); return broker.stop(); };
  const provider = new EntraMcpServerProvider(
    context.asAbsolutePath('dist/server.js'), version, vscode.Uri.joinPath(context.globalStorageUri, 'compile-cache').fsPath, broker, log, remotes);

  context.subscriptions.push(
    log,
    provider,
    vscode.lm.registerMcpServerDefinitionProvider(PROVIDER_ID, provider),
    ...registerCommands(tokens, broker, remotes, log),
    remotes.onDidDiscover(() => provider.refresh()),
    createStatusBarItem(tokens),
    vscode.workspace.onDidChangeConfiguration(event => {
      if (affectsTokens(event)) { void tokens.clearCache('tenant, client id or cloud changed'); }
      if (affectsServerDefinition(event)) { provider.refresh(); }
      if (affectsRemoteServers(event)) { void remotes.refresh(); }
    }),
    { dispose: () => void stopBroker?.() },
  );
  void remotes.refresh();
  log.info(`Entra MCP Broker ${version} activated (${readSettings().cloud.label}).`);
}

export async function deactivate(): Promise<void> {
  await stopBroker?.();
  stopBroker = undefined;
}
