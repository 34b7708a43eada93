import * as vscode from 'vscode';
import { SignInRequest } from './auth/tokenService';

/**
 * Our own prompt for a tool call made while the user is signed out of this extension. VS Code
 * would hand back its session silently, so asking is ours to do.
 */
export async function confirmSignIn(request: SignInRequest): Promise<boolean> {
  const choice = await vscode.window.showInformationMessage(
    `The Entra MCP tool "${request.tool}" needs you to sign in.`,
    { modal: true, detail: `You signed out of Entra MCP Broker. Signing in lets the tool use the Microsoft permission ${request.scopes.join(', ')} as you.` },
    'Sign In');
  return choice === 'Sign In';
}
