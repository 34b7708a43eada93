/**
 * The organization's remote server, reached from a real VS Code with the sign-in the user
 * already has: one line in the settings, and its tools appear; each request carries a fresh
 * token from the broker (after expiry and after a 401 alike, without a prompt); sign-out stops it.
 * The remote server is ours, in Entra mode, against the fake Entra ID and fake Graph; the test
 * identity provider's tokens for it are signed by that fake Entra.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { FakeEntraUser } from '../helpers/fakeEntra';
import { tlsEnv } from '../helpers/localHttps';
import { RemoteHarness, SERVER_CLIENT_ID, TENANT_ID, startRemoteHarness } from '../helpers/remoteHarness';
import { waitFor } from '../helpers/waitFor';
import { EXTENSION_ID, activateExtension, invokeTool, setSetting } from './hostHelpers';

const LABEL = 'Contoso tools';
const REMOTE_SERVER_ID = `${EXTENSION_ID}/${LABEL}`;
/** VS Code names an MCP server's tools after the name the server gives itself: the bridge's is the label in snake case. */
const TOOL_PREFIX = 'mcp_contoso_tools_';
const PROFILE_TOOL = `${TOOL_PREFIX}get_my_profile`;
/** The test identity provider's account, as the fake Entra knows it in the server's tenant. */
const MEGAN: FakeEntraUser = { oid: '87d349ed-44d7-43e1-9a83-5f2406dee5bd', tid: TENANT_ID, upn: 'MeganB@contoso.com', name: 'Megan Bowen (test)' };

type ProviderCall = { method: string; scopes: string[] };

describe('a remote server in a real VS Code', () => {
  let remote: RemoteHarness;
  let minted = 0;
  /** Lifetime of the next tokens the identity provider issues for the remote server. */
  let lifetimeSeconds = 3600;
  /** When set, the identity provider fails as Entra does for a client the API does not trust. */
  let entraRefusal: string | undefined;
  /** When set, the next token is signed with a key the fake Entra no longer publishes. */
  let retiredKeyNext = false;
  const disposables: vscode.Disposable[] = [];

  before(async function () {
    this.timeout(120_000);
    // The server refuses an expired token at once (no clock skew), so a stale token cannot pass.
    remote = await startRemoteHarness({ env: { ...tlsEnv(), ENTRA_MCP_CLOCK_SKEW_SECONDS: '0' }, tuning: { jwksCooldownMs: 0 } });
    disposables.push(vscode.commands.registerCommand('fakeAuth.test.mintRemoteToken', (scopes: string[]) => {
      if (entraRefusal) { throw new Error(entraRefusal); }
      assert.deepEqual(scopes, [`api://${SERVER_CLIENT_ID}/access_as_user`], 'VS Code is asked for the scope the server advertised, nothing else');
      minted++;
      const kid = retiredKeyNext ? 'retired-signing-key' : undefined;
      retiredKeyNext = false;
      return remote.token(MEGAN, { expiresInSeconds: lifetimeSeconds, ...(kid ? { kid } : {}) });
    }));
    await activateExtension();
    await setSetting('promptForSignIn', false);
    await setSetting('loginEndpoint', remote.entra.authorityHost);
    await setSetting('remoteServers', [{ label: LABEL, url: remote.url }]);
    // Discovery runs on the settings change; VS Code then learns of the new definition and starts it on request.
    await waitFor(async () => {
      await vscode.commands.executeCommand('workbench.mcp.startServer', REMOTE_SERVER_ID, { waitForLiveTools: true });
      return remoteTools().includes(PROFILE_TOOL);
    }, 'the remote server\'s tools to appear', 45_000, 1_000);
  });

  after(async () => {
    await setSetting('remoteServers', []);
    await setSetting('loginEndpoint', '');
    await vscode.commands.executeCommand('entraMcp.signIn');
    for (const disposable of disposables) { disposable.dispose(); }
    await remote.stop();
  });

  const remoteTools = () => vscode.lm.tools.filter(tool => tool.name.startsWith(TOOL_PREFIX)).map(tool => tool.name);
  const providerCalls = () => vscode.commands.executeCommand<ProviderCall[]>('fakeAuth.calls');
  const prompts = async () => (await providerCalls()).filter(call => call.method === 'createSession').length;

  it('one line in the settings: the remote server\'s tools appear in agent mode', async () => {
    const direct = await remote.connect(remote.token(MEGAN));
    try {
      const expected = (await direct.listTools()).tools.map(tool => `${TOOL_PREFIX}${tool.name}`).sort();
      assert.deepEqual(remoteTools().sort(), expected, 'exactly the tools the remote server lists');
    } finally {
      await direct.close();
    }
  });

  it('a remote tool returns the signed-in user, with a token the remote server validated', async () => {
    const before = remote.entra.oboExchanges.length;
    const { text } = await invokeTool(PROFILE_TOOL);
    assert.match(text, /Megan Bowen \(test\)/);
    assert.ok(minted >= 1, 'the token came from VS Code\'s sign-in');
    assert.ok(remote.entra.oboExchanges.length > before, 'the server exchanged it On-Behalf-Of the user');
    assert.ok(!/eyJ/.test(text), 'no token reaches the model');
  });

  it('after the token expires the next call still works, without a prompt', async () => {
    lifetimeSeconds = 4;
    await vscode.commands.executeCommand('entraMcp.clearTokenCache');
    const promptsBefore = await prompts();
    await invokeTool(PROFILE_TOOL);
    const mintedBefore = minted;
    await new Promise(resolve => setTimeout(resolve, 5_000));
    const { text } = await invokeTool(PROFILE_TOOL);
    assert.match(text, /Megan Bowen \(test\)/);
    assert.ok(minted > mintedBefore, 'a new token was obtained for the call after expiry');
    assert.equal(await prompts(), promptsBefore, 'no sign-in prompt');
  });

  it('after a 401 (the server no longer accepts the cached token) it is replaced, once, without a prompt', async () => {
    lifetimeSeconds = 3600;
    await vscode.commands.executeCommand('entraMcp.clearTokenCache');
    const promptsBefore = await prompts();
    const refusalsBefore = remote.audit.filter(line => line.event === 'auth_refused' && line.status === 401).length;
    // The next token is signed with a key Entra has retired: the broker caches it as good, the server answers 401.
    retiredKeyNext = true;
    const { text } = await invokeTool(PROFILE_TOOL);
    assert.match(text, /Megan Bowen \(test\)/);
    assert.equal(retiredKeyNext, false, 'the stale token was used first');
    assert.equal(remote.audit.filter(line => line.event === 'auth_refused' && line.status === 401).length, refusalsBefore + 1, 'the server refused the stale token, once');
    assert.equal(await prompts(), promptsBefore, 'no sign-in prompt');
    const mintedAfter = minted;
    assert.match((await invokeTool(PROFILE_TOOL)).text, /Megan Bowen \(test\)/);
    assert.equal(minted, mintedAfter, 'the replacement is what the broker caches now');
  });

  it('an API that does not pre-authorize VS Code: the error says exactly that', async () => {
    entraRefusal = 'AADSTS65001: The user or administrator has not consented to use the application with ID \'aebc6443-996d-45c2-90f0-388ff96faa56\'.';
    try {
      await vscode.commands.executeCommand('entraMcp.clearTokenCache');
      const { text } = await invokeTool(PROFILE_TOOL);
      assert.match(text, /pre-authorized client application/);
      assert.match(text, /aebc6443-996d-45c2-90f0-388ff96faa56/);
    } finally {
      entraRefusal = undefined;
    }
  });

  it('sign-out stops it', async () => {
    await vscode.commands.executeCommand('entraMcp.signOut');
    const mintedBefore = minted;
    const { text } = await invokeTool(PROFILE_TOOL);
    assert.match(text, /Sign In/);
    assert.doesNotMatch(text, /Megan Bowen/);
    assert.equal(minted, mintedBefore, 'no token was obtained while signed out');
  });
});
