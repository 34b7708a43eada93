import * as vscode from 'vscode';
import { adminConsentedScopes } from '../../shared/adminConsent';
import { TokenService } from '../auth/tokenService';
import { BrokerServer } from '../broker/brokerServer';
import { RemoteServerState, RemoteServers, describeDiscovery } from '../remote/remoteServers';

type StatusPick = vscode.QuickPickItem & { command?: string };

/** Show Status: who the tools act as and what they hold, with the actions that change it. */
export async function showStatus(tokens: TokenService, broker: BrokerServer, remotes: RemoteServers): Promise<void> {
  const choice = await vscode.window.showQuickPick(statusItems(tokens, broker, remotes), { title: 'Entra MCP: Status', matchOnDescription: true });
  if (choice?.command) {
    await vscode.commands.executeCommand(choice.command);
  }
}

export function statusItems(tokens: TokenService, broker: BrokerServer, remotes: RemoteServers): StatusPick[] {
  const status = tokens.status();
  const server = broker.connectionCount > 0 ? 'running' : broker.isRunning ? 'starting or stopped' : 'not started (starts when agent mode uses a tool)';
  const items: StatusPick[] = [
    { label: 'Account', description: status.signedIn ? status.account : 'not signed in' },
    { label: 'Tenant', description: status.tenantId ? `${status.tenant} (${status.tenantId})` : status.tenant, command: 'entraMcp.selectTenant' },
    { label: 'Cloud', description: status.cloud },
    { label: 'Server', description: server },
    { label: 'Scopes granted', description: status.grantedScopes.length ? status.grantedScopes.join(', ') : 'none yet' },
    { label: 'Granted with admin consent', description: adminConsentedScopes(status.grantedScopes).join(', ') || 'none' },
    ...remotes.list().map(state => remoteItem(state, status.signedIn ? status.account : undefined)),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
  ];
  items.push(status.signedIn
    ? { label: '$(sign-out) Sign Out', command: 'entraMcp.signOut' }
    : { label: '$(sign-in) Sign In', command: 'entraMcp.signIn' });
  items.push(
    { label: '$(account) Switch Account', command: 'entraMcp.switchAccount' },
    { label: '$(organization) Select Tenant', command: 'entraMcp.selectTenant' },
    { label: '$(output) Show Log', command: 'entraMcp.showLog' },
    { label: '$(trash) Clear Token Cache', command: 'entraMcp.clearTokenCache' },
  );
  if (remotes.list().length > 0) {
    items.push({ label: '$(refresh) Check Remote Servers Again', command: 'entraMcp.refreshRemoteServers' });
  }
  return items;
}

/** One remote server: what it is, whom it acts as, and how its last call went. */
export function remoteItem(state: RemoteServerState, account: string | undefined): StatusPick {
  const discovery = state.discovery;
  const outcome = state.lastOutcome;
  let description = describeDiscovery(discovery);
  if (discovery?.kind === 'entra') {
    const actingAs = account ? `acts as ${account}` : 'not signed in';
    const last = outcome ? (outcome.ok ? 'last call ok' : `last call failed: ${outcome.message ?? 'see the tool result'}`) : 'not used yet';
    description = `${actingAs}; ${last}; ${description}`;
  }
  return { label: `Remote: ${state.entry.label}`, description, detail: state.entry.url };
}
