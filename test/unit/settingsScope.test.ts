/**
 * A cloned repository's .vscode/settings.json must not decide where a token goes or what it may
 * do. VS Code enforces that for settings contributed with the `application` or `machine` scope,
 * and for settings listed as restricted in untrusted workspaces: this holds the manifest to it.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ContributedSetting { scope?: string }

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, ContributedSetting> } };
  capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: string[] } };
};
const settings = manifest.contributes.configuration.properties;

/** Settings that route tokens (endpoints), pick the identity (tenant, client id) or widen what a token or tool may do. */
const TOKEN_DECIDING = ['tenant', 'clientId', 'promptForSignIn', 'additionalScopes', 'allowWrites', 'enabledTools', 'graphEndpoint', 'armEndpoint',
  'loginEndpoint', 'remoteServers']
  .map(key => `entraMcp.${key}`);

describe('settings a workspace cannot set', () => {
  it('every token-deciding setting is user-level only (application or machine scope)', () => {
    for (const name of TOKEN_DECIDING) {
      assert.ok(settings[name], `${name} is contributed`);
      assert.ok(['application', 'machine'].includes(settings[name].scope ?? 'window'), `${name} has scope ${settings[name].scope ?? 'window (the default)'}`);
    }
  });

  it('every contributed setting is one of them: a new setting must be classified here first', () => {
    assert.deepEqual(Object.keys(settings).sort(), [...TOKEN_DECIDING].sort());
  });

  it('each is restricted in untrusted workspaces', () => {
    const trust = manifest.capabilities?.untrustedWorkspaces;
    assert.equal(trust?.supported, 'limited');
    assert.deepEqual([...(trust?.restrictedConfigurations ?? [])].sort(), [...TOKEN_DECIDING].sort());
  });
});
