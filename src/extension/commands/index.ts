import * as vscode from 'vscode';
import { TokenService } from '../auth/tokenService';
import { BrokerServer } from '../broker/brokerServer';
import { RemoteServers } from '../remote/remoteServers';
import { clearTokenCache, signIn, signOut, switchAccount } from './accountCommands';
import { selectTenant } from './selectTenant';
import { showStatus } from './showStatus';

export const COMMAND_IDS = [
  'entraMcp.signIn', 'entraMcp.signOut', 'entraMcp.switchAccount', 'entraMcp.selectTenant',
  'entraMcp.showStatus', 'entraMcp.showLog', 'entraMcp.clearTokenCache', 'entraMcp.refreshRemoteServers',
] as const;

/** Registers every command; failures become an error message that points at the log. */
export function registerCommands(tokens: TokenService, broker: BrokerServer, remotes: RemoteServers, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const handlers: Record<typeof COMMAND_IDS[number], () => Promise<void> | void> = {
    'entraMcp.signIn': () => signIn(tokens),
    'entraMcp.signOut': () => signOut(tokens),
    'entraMcp.switchAccount': () => switchAccount(tokens),
    'entraMcp.selectTenant': () => selectTenant(tokens),
    'entraMcp.showStatus': () => showStatus(tokens, broker, remotes),
    'entraMcp.showLog': () => log.show(),
    'entraMcp.clearTokenCache': () => clearTokenCache(tokens),
    'entraMcp.refreshRemoteServers': () => remotes.refresh(),
  };
  return COMMAND_IDS.map(id => vscode.commands.registerCommand(id, async () => {
    try {
      await handlers[id]();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error(`${id} failed: ${message}`);
      void vscode.window.showErrorMessage(`Entra MCP: ${message}`, 'Show Log').then(choice => {
        if (choice) { log.show(); }
      });
    }
  }));
}
