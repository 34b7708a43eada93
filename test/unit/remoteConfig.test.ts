/** The remote server's configuration as deployments set it: defaults, clouds, tenants, roles. */
import * as assert from 'node:assert/strict';
import { readRemoteConfig } from '../../src/remote/config';
import { DEFAULT_ROLE_MAP, ToolAccess } from '../../src/remote/rbac';
import { TOOL_CATALOGUE } from '../../src/shared/toolCatalogue';

const BASE = {
  ENTRA_MCP_TENANT_ID: '3F2A6C1E-8B4D-4E7A-9C5F-1D2E3F4A5B6C',
  ENTRA_MCP_CLIENT_ID: 'c0ffee00-1234-4abc-8def-0123456789ab',
  ENTRA_MCP_MANAGED_IDENTITY: 'system',
};

describe('remote server: configuration', () => {
  it('defaults to the public cloud, loopback, port 8080, access_as_user, roles required, 120 requests a minute', () => {
    const config = readRemoteConfig(BASE);
    assert.equal(config.authorityHost, 'https://login.microsoftonline.com');
    assert.equal(config.graphEndpoint, 'https://graph.microsoft.com');
    assert.equal(config.armEndpoint, 'https://management.azure.com');
    assert.equal(config.publicUrl.href, 'http://127.0.0.1:8080/mcp');
    assert.equal(config.scope, 'access_as_user');
    assert.equal(config.requireRoles, true);
    assert.equal(config.rateLimitPerMinute, 120);
    assert.equal(config.tools.allowWrites, false);
    assert.deepEqual(config.credential, { kind: 'managedIdentity', clientId: 'system' });
    assert.deepEqual(config.allowedTenants, ['3f2a6c1e-8b4d-4e7a-9c5f-1d2e3f4a5b6c'], 'tenant ids compare lower-case, as tokens carry them');
  });

  it('follows ENTRA_MCP_CLOUD for the sovereign clouds\' authority, Graph and ARM', () => {
    const government = readRemoteConfig({ ...BASE, ENTRA_MCP_CLOUD: 'AzureUSGovernment' });
    assert.equal(government.authorityHost, 'https://login.microsoftonline.us');
    assert.equal(government.graphEndpoint, 'https://graph.microsoft.us');
    assert.equal(government.armEndpoint, 'https://management.usgovcloudapi.net');
    const china = readRemoteConfig({ ...BASE, ENTRA_MCP_CLOUD: 'AzureChinaCloud' });
    assert.equal(china.authorityHost, 'https://login.chinacloudapi.cn');
    assert.equal(china.graphEndpoint, 'https://microsoftgraph.chinacloudapi.cn');
  });

  it('accepts further tenants, PORT, a public URL behind a proxy, and a user-assigned identity', () => {
    const config = readRemoteConfig({
      ...BASE, ENTRA_MCP_ALLOWED_TENANTS: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d, 11111111-2222-4333-8444-555555555555',
      PORT: '3000', ENTRA_MCP_HOST: '0.0.0.0', ENTRA_MCP_TRUST_PROXY: 'true', ENTRA_MCP_PUBLIC_URL: 'https://mcp.contoso.com/mcp',
      ENTRA_MCP_MANAGED_IDENTITY: '1E2D3C4B-5A69-4788-97A6-B5C4D3E2F1A0',
    });
    assert.equal(config.allowedTenants.length, 3);
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl.href, 'https://mcp.contoso.com/mcp');
    assert.deepEqual(config.credential, { kind: 'managedIdentity', clientId: '1e2d3c4b-5a69-4788-97a6-b5c4d3e2f1a0' });
    assert.equal(readRemoteConfig({ ...BASE, PORT: '3000', ENTRA_MCP_PORT: '9000' }).port, 9000, 'ENTRA_MCP_PORT wins over PORT');
  });

  it('refuses a public URL in plain http off loopback, and a foreign tenant list entry that is not a GUID', () => {
    assert.throws(() => readRemoteConfig({ ...BASE, ENTRA_MCP_PUBLIC_URL: 'http://mcp.contoso.com/mcp' }), /must be an https:\/\/ URL/);
    assert.throws(() => readRemoteConfig({ ...BASE, ENTRA_MCP_ALLOWED_TENANTS: 'fabrikam.com' }), /ENTRA_MCP_ALLOWED_TENANTS must be a GUID/);
    assert.throws(() => readRemoteConfig({ ...BASE, ENTRA_MCP_SCOPE: 'api://x/access_as_user' }), /bare name of the scope/);
  });

  it('by default grants the read tools to Tools.Read and the write tools to Tools.Write, and nothing to others', () => {
    const access = new ToolAccess(DEFAULT_ROLE_MAP, true);
    for (const tool of TOOL_CATALOGUE) {
      assert.equal(access.allows(['Tools.Read'], tool.name), tool.readOnly, tool.name);
      assert.equal(access.allows(['Tools.Write'], tool.name), !tool.readOnly, tool.name);
      assert.equal(access.allows(['Tools.Admin', 'tools.read'], tool.name), false, 'role values are case-sensitive, as Entra issues them');
    }
    assert.deepEqual(access.rolesGranting('send_mail'), ['Tools.Write']);
    assert.equal(access.hasAnyRole([]), false);
    assert.equal(new ToolAccess(DEFAULT_ROLE_MAP, false).hasAnyRole([]), true);
  });

  it('reads a role map with patterns; a pattern matches whole names only', () => {
    const config = readRemoteConfig({ ...BASE, ENTRA_MCP_ROLES: '{"Tools.Read":["*"],"Mail.Send":["send_mail","reply_to_message"],"Me":["get_my_*"]}' });
    const access = new ToolAccess(config.roles, true);
    assert.equal(access.allows(['Me'], 'get_my_profile'), true);
    assert.equal(access.allows(['Me'], 'xget_my_profile'), false);
    assert.equal(access.allows(['Mail.Send'], 'send_mail'), true);
    assert.equal(access.allows(['Mail.Send'], 'send_chat_message'), false);
    assert.throws(() => readRemoteConfig({ ...BASE, ENTRA_MCP_ROLES: '[]' }), /JSON object/);
    assert.throws(() => readRemoteConfig({ ...BASE, ENTRA_MCP_ROLES: '{"Tools.Read":["send mail; drop"]}' }), /tool names or patterns/);
  });
});
