import * as vscode from 'vscode';
import { TokenService } from './auth/tokenService';

/** Shows who the tools act as; a click opens Show Status. */
export function createStatusBarItem(tokens: TokenService): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('entraMcp.status', vscode.StatusBarAlignment.Left, 0);
  item.name = 'Entra MCP account';
  item.command = 'entraMcp.showStatus';
  const update = () => {
    const status = tokens.status();
    item.text = status.signedIn ? `$(account) Entra: ${status.account}` : '$(account) Entra: Sign in';
    item.tooltip = status.signedIn
      ? `Entra MCP tools act as ${status.account} (${status.cloud}). Click for status.`
      : 'Entra MCP is not signed in. Click for status and sign-in.';
  };
  update();
  item.show();
  const subscription = tokens.onDidChange(update);
  return vscode.Disposable.from(item, subscription);
}
