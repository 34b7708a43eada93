/** Helpers for tests running inside the VS Code extension host. */
import * as vscode from 'vscode';
import { waitFor } from '../helpers/waitFor';

export const EXTENSION_ID = 'entra-mcp.entra-mcp-broker';

export async function activateExtension(): Promise<vscode.Extension<unknown>> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) {
    throw new Error(`${EXTENSION_ID} is not installed in the test host`);
  }
  if (!extension.isActive) {
    // Code loading plus activate(), as VS Code times it; printed for BENCHMARKS.md, never asserted.
    const started = performance.now();
    await extension.activate();
    console.log(`    activation of ${EXTENSION_ID} (load + activate): ${(performance.now() - started).toFixed(1)} ms`);
  }
  return extension;
}

/** Starts our MCP server through VS Code and waits until its tools are live. */
export async function startEntraServer(): Promise<void> {
  // Right after start-up VS Code may not have collected our provider's servers yet: ask again until the tools are live.
  await waitFor(async () => {
    await vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true });
    return vscode.lm.tools.some(tool => tool.name.startsWith('mcp_entra_'));
  }, 'Entra MCP tools to appear', 45_000, 1_000);
}

/** How VS Code names a provider's server: `<extension id>/<label>`. */
export const SERVER_ID = `${EXTENSION_ID}/Entra MCP`;

/**
 * After a settings change the provider announces new definitions; restarting the server (as the
 * user does from MCP: List Servers) picks them up. Restarts until `condition` holds.
 */
export async function restartServerUntil(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  await waitFor(async () => {
    await vscode.commands.executeCommand('workbench.mcp.restartServer', SERVER_ID, { autoTrustChanges: true });
    await startEntraServer();
    return condition();
  }, what, 30_000, 1_000);
}


/** Every tool output of the run, for the leak scan at the end. */
export const toolOutputs: string[] = [];

export async function invokeTool(name: string, input: object = {}): Promise<{ text: string; result: vscode.LanguageModelToolResult }> {
  const source = new vscode.CancellationTokenSource();
  try {
    const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, source.token);
    const text = result.content.map(part => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('\n');
    toolOutputs.push(text);
    return { text, result };
  } finally {
    source.dispose();
  }
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  // The workbench registers contributed settings shortly after the extension host starts.
  await waitFor(async () => {
    try {
      await vscode.workspace.getConfiguration('entraMcp').update(key, value, vscode.ConfigurationTarget.Global);
      return true;
    } catch (error) {
      if (/not a registered configuration/.test(String(error))) { return false; }
      throw error;
    }
  }, `the setting entraMcp.${key} to be registered`, 20_000, 250);
}
