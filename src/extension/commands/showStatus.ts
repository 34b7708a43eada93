import * as vscode from 'vscode';
import { adminConsentedScopes } from '../../shared/adminConsent';
import { TokenService } from '../auth/tokenService';
import { BrokerServer } from '../broker/brokerServer';

type StatusPick = vscode.QuickPickItem & { command?: string };

/** Show Status: who the tools act as and what they hold, with the actions that change it. */
export async function showStatus(tokens: TokenService, broker: BrokerServer): Promise<void> {
  const choice = await vscode.window.showQuickPick(statusItems(tokens, broker), { title: 'Entra MCP: Status', matchOnDescription: true });
  if (choice?.command) {
    await vscode.commands.executeCommand(choice.command);
  }
}

export function statusItems(tokens: TokenService, broker: BrokerServer): StatusPick[] {
  const status = tokens.status();
  const server = broker.connectionCount > 0 ? 'running' : broker.isRunning ? 'starting or stopped' : 'not started (starts when agent mode uses a tool)';
  const items: StatusPick[] = [
    { label: 'Account', description: status.signedIn ? status.account : 'not signed in' },
    { label: 'Tenant', description: status.tenantId ? `${status.tenant} (${status.tenantId})` : status.tenant, command: 'entraMcp.selectTenant' },
    { label: 'Cloud', description: status.cloud },
    { label: 'Server', description: server },
    { label: 'Scopes granted', description: status.grantedScopes.length ? status.grantedScopes.join(', ') : 'none yet' },
    { label: 'Granted with admin consent', description: adminConsentedScopes(status.grantedScopes).join(', ') || 'none' },
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
  return items;
}
