import * as vscode from 'vscode';
import { TokenService } from '../auth/tokenService';
import { readSettings } from '../settings';

/** Sign In: interactive, with a detail saying why; clears a previous sign-out. */
export async function signIn(tokens: TokenService): Promise<void> {
  const account = await tokens.signIn();
  void vscode.window.showInformationMessage(`Entra MCP: signed in as ${account.label}.`);
}

/** Sign Out: forget our tokens and account choice and stay signed out until Sign In. */
export async function signOut(tokens: TokenService): Promise<void> {
  const account = tokens.account();
  await tokens.signOut();
  void vscode.window.showInformationMessage(
    `Entra MCP: signed out${account ? ` of ${account.label}` : ''}. Tools get no token until you run "Entra MCP: Sign In". ` +
    'VS Code itself still knows the account: to remove it, open the Accounts menu (the person icon), choose the account, then Sign Out.');
}

/** Switch Account: pick one of the accounts VS Code knows, or add another. */
export async function switchAccount(tokens: TokenService): Promise<void> {
  const providerId = readSettings().cloud.providerId;
  const accounts = await vscode.authentication.getAccounts(providerId);
  const current = tokens.account();
  type Pick = vscode.QuickPickItem & { account?: vscode.AuthenticationSessionAccountInformation };
  const items: Pick[] = accounts.map(account => ({
    label: account.label,
    description: account.id === current?.id ? 'current' : undefined,
    account,
  }));
  items.push({ label: '$(add) Use another account…', description: 'Sign in with an account VS Code does not know yet' });
  const choice = await vscode.window.showQuickPick(items, { title: 'Entra MCP: Switch Account', placeHolder: 'Account the tools act as' });
  if (!choice) {
    return;
  }
  const account = choice.account
    ? await tokens.switchAccount(choice.account)
    : await tokens.switchToNewAccount();
  void vscode.window.showInformationMessage(`Entra MCP: tools now act as ${account.label}.`);
}

export async function clearTokenCache(tokens: TokenService): Promise<void> {
  const removed = await tokens.clearCache('Clear Token Cache command');
  void vscode.window.showInformationMessage(`Entra MCP: cleared ${removed} cached token(s). New ones are fetched silently when tools need them.`);
}
