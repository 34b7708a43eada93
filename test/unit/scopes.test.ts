import * as assert from 'node:assert/strict';
import { CLOUDS, cloudFromSovereignSetting, qualifyScopeForCloud } from '../../src/shared/clouds';
import { ScopeAllowList, isWellFormedScope, normalizeScopes } from '../../src/shared/scopes';
import { TOOL_CATALOGUE, ToolScopeDeclaration, allowedScopesFor, isToolEnabled, selectionFromEnv, selectionToEnv } from '../../src/shared/toolCatalogue';

describe('scope rules', () => {
  it('normalizes scopes: trimmed, de-duplicated, sorted', () => {
    assert.deepEqual(normalizeScopes([' User.Read', 'Mail.Read', 'User.Read', '']), ['Mail.Read', 'User.Read']);
  });

  it('treats scopes as case-insensitive, as Entra does: one entry per permission, sovereign mapping for every spelling', () => {
    assert.deepEqual(normalizeScopes(['mail.read', 'User.Read', 'Mail.Read', 'USER.READ']), ['mail.read', 'User.Read']);
    assert.equal(qualifyScopeForCloud('HTTPS://MANAGEMENT.AZURE.COM/.default', CLOUDS.AzureUSGovernment), 'https://management.usgovcloudapi.net/.default');
    assert.equal(qualifyScopeForCloud('https://Management.Azure.com/user_impersonation', CLOUDS.AzureChinaCloud), 'https://management.chinacloudapi.cn/user_impersonation');
    assert.equal(qualifyScopeForCloud('OFFLINE_ACCESS', CLOUDS.AzureChinaCloud), 'OFFLINE_ACCESS');
    assert.ok(!isWellFormedScope('vscode_tenant:common'), 'pseudo-scopes are refused in any case');
  });

  it('refuses malformed scopes and VS Code pseudo-scopes', () => {
    for (const scope of ['User.Read', 'https://management.azure.com/user_impersonation', 'offline_access']) {
      assert.ok(isWellFormedScope(scope), scope);
    }
    for (const scope of ['', 'User Read', 'VSCODE_TENANT:contoso.com', 'VSCODE_CLIENT_ID:x', 'a"b', 'User.Read\r\n', 'x'.repeat(300)]) {
      assert.ok(!isWellFormedScope(scope), JSON.stringify(scope));
    }
  });

  it('allows a tool only its declared scopes plus the user\'s explicit additions', () => {
    const profile = new ScopeAllowList(allowedScopesFor('get_my_profile', []));
    assert.deepEqual(profile.disallowed(['User.Read']), []);
    assert.deepEqual(profile.disallowed(['user.read']), [], 'Entra scope names are case-insensitive');
    assert.deepEqual(profile.disallowed(['Mail.Send', 'User.Read']), ['Mail.Send']);
    const withExtra = new ScopeAllowList(allowedScopesFor('get_my_profile', ['Sites.Read.All']));
    assert.deepEqual(withExtra.disallowed(['Sites.Read.All']), []);
  });

  it('gives an unknown tool nothing', () => {
    assert.deepEqual(allowedScopesFor('exfiltrate', []), []);
    assert.deepEqual(new ScopeAllowList(allowedScopesFor('exfiltrate', [])).disallowed(['User.Read']), ['User.Read']);
  });

  it('declares no write scope for any read-only tool', () => {
    for (const tool of TOOL_CATALOGUE.filter(entry => entry.readOnly)) {
      for (const scope of [...tool.scopes, ...(tool.optionalScopes ?? [])]) {
        assert.ok(!/ReadWrite|\.Send|Write/.test(scope), `${tool.name} declares ${scope}`);
      }
    }
    assert.ok(TOOL_CATALOGUE.some(tool => tool.scopes.includes('User.Read')));
  });

  it('maps VS Code\'s sovereign-cloud setting to provider and endpoints', () => {
    assert.equal(cloudFromSovereignSetting(undefined).providerId, 'microsoft');
    assert.equal(cloudFromSovereignSetting('USGovernment').graphEndpoint, 'https://graph.microsoft.us');
    assert.equal(cloudFromSovereignSetting('ChinaCloud').armEndpoint, 'https://management.chinacloudapi.cn');
    assert.equal(cloudFromSovereignSetting('custom').graphEndpoint, '');
    assert.equal(qualifyScopeForCloud('User.Read', CLOUDS.AzureCloud), 'User.Read');
    assert.equal(qualifyScopeForCloud('User.Read', CLOUDS.AzureChinaCloud), 'https://microsoftgraph.chinacloudapi.cn/User.Read');
    assert.equal(qualifyScopeForCloud('offline_access', CLOUDS.AzureChinaCloud), 'offline_access');
    assert.equal(qualifyScopeForCloud('https://management.azure.com/.default', CLOUDS.AzureCloud), 'https://management.azure.com/.default');
    assert.equal(qualifyScopeForCloud('https://management.azure.com/.default', CLOUDS.AzureUSGovernment), 'https://management.usgovcloudapi.net/.default');
  });

  it('selects tools by name or pattern, and lists write tools only when writes are allowed', () => {
    const read: ToolScopeDeclaration = { name: 'get_my_profile', scopes: ['User.Read'], readOnly: true };
    const write: ToolScopeDeclaration = { name: 'send_mail', scopes: ['Mail.Send'], readOnly: false };
    assert.ok(isToolEnabled(read, { allowWrites: false, enabledTools: [] }));
    assert.ok(!isToolEnabled(write, { allowWrites: false, enabledTools: [] }));
    assert.ok(isToolEnabled(write, { allowWrites: true, enabledTools: [] }));
    assert.ok(isToolEnabled(read, { allowWrites: false, enabledTools: ['get_my_*'] }));
    assert.ok(!isToolEnabled(read, { allowWrites: false, enabledTools: ['graph_get', 'list_*'] }));
    assert.ok(!isToolEnabled(read, { allowWrites: false, enabledTools: ['get.my.profile'] }), 'dots are literal, not wildcards');
    assert.ok(!isToolEnabled(write, { allowWrites: false, enabledTools: ['send_mail'] }), 'enabling by name does not bypass allowWrites');
  });

  it('gives a disabled tool no scopes at the broker', () => {
    assert.deepEqual(allowedScopesFor('get_my_profile', [], { allowWrites: false, enabledTools: ['graph_get'] }), []);
    assert.deepEqual(allowedScopesFor('get_my_profile', [], { allowWrites: false, enabledTools: ['get_*'] }), ['User.Read']);
  });

  it('carries the selection through the server environment', () => {
    const selection = { allowWrites: true, enabledTools: ['get_my_*', 'graph_get'] };
    assert.deepEqual(selectionFromEnv(selectionToEnv(selection)), selection);
    assert.deepEqual(selectionFromEnv({}), { allowWrites: false, enabledTools: [] });
  });
});
