import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, activateExtension, startEntraServer } from './hostHelpers';

describe('The packaged VSIX installed in VS Code', () => {
  it('is installed from the VSIX and activates', async () => {
    const extension = await activateExtension();
    assert.equal(extension.isActive, true);
    assert.ok(!extension.extensionPath.includes('test/fixtures'), 'loaded from the extensions folder');
    assert.equal(extension.id, EXTENSION_ID);
  });

  it('registers its commands', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('entraMcp.signIn'));
    assert.ok(commands.includes('entraMcp.showStatus'));
  });

  it('ships the bundled server and starts it', async () => {
    await startEntraServer();
    assert.ok(vscode.lm.tools.some(tool => tool.name === 'mcp_entra_auth_status'), 'tools from the packaged server are listed');
  });
});
