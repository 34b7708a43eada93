import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REQUIRES_ADMIN_CONSENT, adminConsentedScopes, requiresAdminConsent } from '../../src/shared/adminConsent';
import { ARM_DEFAULT_SCOPE, TOOL_CATALOGUE } from '../../src/shared/toolCatalogue';
import { renderToolsTable } from '../../src/server/toolsTable';
import { McpHarness } from '../helpers/mcpHarness';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'microsoft');

/** Trimmed to delegated (DelegatedWork) schemes: `requiresAdminConsent` is that scheme's. */
type PermissionsData = { permissions: Record<string, { requiresAdminConsent?: boolean }> };

/** The permissions data behind Graph's documentation, as committed (trimmed) in the fixtures. */
function publishedPermissions(): PermissionsData['permissions'] {
  const file = existsSync(FIXTURES) ? readdirSync(FIXTURES).find(name => /permissions.*\.json$/.test(name)) : undefined;
  assert.ok(file, `a permissions fixture in ${FIXTURES}`);
  return (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as PermissionsData).permissions;
}

const catalogueScopes = [...new Set(TOOL_CATALOGUE.flatMap(tool => [...tool.scopes, ...(tool.optionalScopes ?? [])]))];

const declaredScopes = new Set(TOOL_CATALOGUE.flatMap(tool => tool.scopes));

describe('admin consent', () => {
  it('knows every permission a tool can request', () => {
    const unknown = catalogueScopes.filter(scope => requiresAdminConsent(scope) === undefined);
    assert.deepEqual(unknown, [], 'add these to src/shared/adminConsent.ts from the permissions data');
  });

  it('agrees with Microsoft\'s permissions data for every Graph permission', () => {
    const published = publishedPermissions();
    for (const [scope, needsAdmin] of Object.entries(REQUIRES_ADMIN_CONSENT).filter(([scope]) => scope !== ARM_DEFAULT_SCOPE)) {
      const delegated = published[scope];
      // The fixture is trimmed to the paths the tools call: graph_get's optional read scopes
      // may be missing there; every scope a tool declares must not be.
      if (!delegated && !declaredScopes.has(scope)) { continue; }
      assert.ok(delegated && typeof delegated.requiresAdminConsent === 'boolean', `${scope} is a delegated permission in the permissions data`);
      assert.equal(needsAdmin, delegated.requiresAdminConsent, scope);
    }
  });

  it('is case-insensitive, as Entra is, and silent about permissions it does not know', () => {
    assert.equal(requiresAdminConsent('user.read.all'), true);
    assert.equal(requiresAdminConsent('Sites.FullControl.All'), undefined);
    assert.deepEqual(adminConsentedScopes(['User.Read', 'GroupMember.ReadBasic.All', 'Mail.Read', 'User.Read.All']), ['GroupMember.ReadBasic.All', 'User.Read.All']);
  });

  it('the README table says which tools need an administrator', async () => {
    const table = await renderToolsTable();
    assert.match(table, /\| Tool \| What it does \| Permissions \| Admin consent \| Read\/write \|/);
    assert.match(table, /\| `get_my_profile` \| .* \| `User\.Read` \| no \| read \|/);
    assert.match(table, /\| `list_channel_messages` \| .* \| yes \(`ChannelMessage\.Read\.All`\) \| read \|/);
  });

  it('auth_status names the granted permissions that needed admin consent', async () => {
    const mcp = await McpHarness.start();
    try {
      await mcp.replaceBroker({ status: () => ({ signedIn: true, account: 'MeganB@contoso.com', tenant: 'organizations', cloud: 'Azure', grantedScopes: ['ChannelMessage.Read.All', 'Mail.Read', 'User.Read'] }) });
      const status = (await mcp.call('auth_status', {})).structuredContent as Record<string, unknown>;
      assert.deepEqual(status.adminConsentedScopes, ['ChannelMessage.Read.All']);
    } finally {
      await mcp.stop();
    }
  });
});
