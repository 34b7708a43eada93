import * as assert from 'node:assert/strict';
import { TokenCache, cacheKey, REFRESH_MARGIN_MS } from '../../src/extension/auth/tokenCache';
import { TokenService } from '../../src/extension/auth/tokenService';
import { CLOUDS } from '../../src/shared/clouds';
import { SIGN_IN_HINT } from '../../src/shared/protocol';
import { setupTokenService as setup } from '../helpers/tokenServiceSetup';

const request = { tool: 'get_my_profile', scopes: ['User.Read'] };

describe('TokenService', () => {
  it('asks the provider silently with the tenant pseudo-scope, then serves from cache', async () => {
    const { provider, service } = setup();
    const first = await service.getToken(request);
    const second = await service.getToken(request);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(provider.calls.length, 1);
    assert.deepEqual(provider.calls[0].request, ['User.Read', 'VSCODE_TENANT:organizations']);
    assert.equal(provider.calls[0].options.silent, true);
    assert.equal(first.account, 'MeganB@contoso.com');
    assert.equal(first.tenantId, '72f988bf-86f1-41af-91ab-2d7cd011db47');
  });

  it('sends the own app registration as VSCODE_CLIENT_ID and the chosen tenant', async () => {
    const { provider, service } = setup({ clientId: '11111111-2222-3333-4444-555555555555', tenant: 'contoso.onmicrosoft.com' });
    await service.getToken(request);
    assert.deepEqual(provider.calls[0].request, ['User.Read', 'VSCODE_TENANT:contoso.onmicrosoft.com', 'VSCODE_CLIENT_ID:11111111-2222-3333-4444-555555555555']);
  });

  it('uses the sovereign provider and qualifies Graph scopes in US Government', async () => {
    const { provider, service } = setup({ cloud: CLOUDS.AzureUSGovernment });
    await service.getToken(request);
    assert.equal(provider.calls[0].providerId, 'microsoft-sovereign-cloud');
    assert.deepEqual(provider.calls[0].request, ['https://graph.microsoft.us/User.Read', 'VSCODE_TENANT:organizations']);
  });

  it('never serves a token within 5 minutes of expiry: refreshes silently', async () => {
    const { provider, service, advance } = setup();
    const first = await service.getToken(request);
    advance(3600_000 - REFRESH_MARGIN_MS + 1_000);
    const second = await service.getToken(request);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(provider.calls.length, 2);
    assert.equal(provider.calls[1].options.silent, true);
  });

  it('fetches past the cache when asked to refresh (Graph rejected the token)', async () => {
    const { provider, service } = setup();
    const first = await service.getToken(request);
    const refreshed = await service.getToken({ ...request, forceRefresh: true });
    assert.notEqual(refreshed.accessToken, first.accessToken);
    assert.equal(provider.calls.length, 2);
    assert.equal(provider.calls[1].options.silent, true);
    assert.equal((await service.getToken(request)).accessToken, refreshed.accessToken, 'the refreshed token is cached');
  });

  it('shares one provider call among concurrent requests for the same scopes', async () => {
    const { provider, service } = setup();
    provider.delayMs = 20;
    const results = await Promise.all(Array.from({ length: 50 }, () => service.getToken(request)));
    assert.equal(provider.calls.length, 1);
    assert.equal(new Set(results.map(result => result.accessToken)).size, 1);
  });

  it('keeps one cache entry per scope set and persists it in secret storage', async () => {
    const { provider, service, secrets, make } = setup();
    await service.getToken(request);
    await service.getToken({ tool: 'graph_get', scopes: ['Mail.Read'] });
    assert.equal(provider.calls.length, 2);
    assert.equal([...secrets.data.keys()].length, 2);
    // A new extension host (reload) reads the persisted entries.
    const reloaded = make();
    await reloaded.getToken({ tool: 'graph_get', scopes: ['Mail.Read'] });
    assert.equal(provider.calls.length, 2);
  });

  it('drops a corrupt cache entry and fetches a new token', async () => {
    const { provider, service, secrets, state } = setup();
    await service.getToken(request);
    const key = cacheKey({ providerId: 'microsoft', accountId: 'account-megan', tenant: 'organizations', scopes: ['User.Read'] });
    assert.ok(secrets.data.has(key));
    secrets.data.set(key, '{"accessToken": 42, "garbage"');
    const fresh = new TokenService({
      getSession: provider.getSession, cache: new TokenCache(secrets), state, settings: () => ({ cloud: CLOUDS.AzureCloud, tenant: 'organizations', promptForSignIn: true }),
      confirmSignIn: async () => true, audit: () => {},
    });
    const token = await fresh.getToken(request);
    assert.ok(token.accessToken.length > 20);
    assert.equal(provider.calls.length, 2);
    assert.doesNotThrow(() => JSON.parse(secrets.data.get(key)!));
  });

  it('prompts once with a detail naming the tool and scopes when no session exists', async () => {
    const { provider, service } = setup();
    provider.hasSession = false;
    await service.getToken(request);
    const interactive = provider.interactiveCalls();
    assert.equal(interactive.length, 1);
    const detail = (interactive[0].options.createIfNone as { detail: string }).detail;
    assert.match(detail, /get_my_profile/);
    assert.match(detail, /User\.Read/);
  });

  it('returns the sign-in error without prompting when promptForSignIn is off', async () => {
    const { provider, service } = setup({ promptForSignIn: false });
    provider.hasSession = false;
    await assert.rejects(service.getToken(request), (error: Error & { reason: string }) =>
      error.reason === 'NotSignedIn' && error.message.includes(SIGN_IN_HINT));
    assert.equal(provider.interactiveCalls().length, 0);
  });

  it('does not prompt again after the user cancelled the sign-in', async () => {
    const { provider, service } = setup();
    provider.hasSession = false;
    provider.interactive = 'cancel';
    await assert.rejects(service.getToken(request), /Entra MCP: Sign In/);
    await assert.rejects(service.getToken(request), /Entra MCP: Sign In/);
    assert.equal(provider.interactiveCalls().length, 1);
  });

  it('stays signed out across reloads and serves no token though VS Code still has a session', async () => {
    const { provider, service, secrets, make, answerPrompt, prompts } = setup({ promptForSignIn: false });
    await service.getToken(request);
    await service.signOut();
    assert.equal(secrets.data.size, 0, 'sign-out purges the token cache');
    assert.equal(provider.calls.at(-1)?.options.clearSessionPreference, true);
    const callsBefore = provider.calls.length;
    await assert.rejects(service.getToken(request), /signed out/);
    const reloaded = make();
    assert.equal(reloaded.isSignedOut(), true);
    await assert.rejects(reloaded.getToken(request), /Entra MCP: Sign In/);
    assert.equal(provider.calls.length, callsBefore, 'no provider call while signed out');
    answerPrompt(true);
    assert.equal(prompts.length, 0);
  });

  it('asks with its own prompt when signed out and promptForSignIn is on; declining sticks', async () => {
    const { provider, service, prompts, answerPrompt } = setup();
    await service.signOut();
    answerPrompt(false);
    await assert.rejects(service.getToken(request), /did not sign in again/);
    await assert.rejects(service.getToken(request), /Entra MCP: Sign In/);
    assert.equal(prompts.length, 1, 'one prompt, not one per call');
    await service.signIn();
    assert.equal(service.isSignedOut(), false);
    const token = await service.getToken(request);
    assert.ok(token.accessToken);
    assert.ok(provider.interactiveCalls().length >= 1);
  });

  it('signs back in after the user accepts its prompt', async () => {
    const { service, prompts } = setup();
    await service.signOut();
    const token = await service.getToken(request);
    assert.ok(token.accessToken);
    assert.equal(prompts.length, 1);
    assert.deepEqual(prompts[0], { tool: 'get_my_profile', scopes: ['User.Read'] });
    assert.equal(service.isSignedOut(), false);
  });

  it('passes only the claims of a challenge to the provider, with the tool\'s scopes, and bypasses the cache', async () => {
    const { provider, service } = setup();
    const cached = await service.getToken(request);
    const challenge = 'Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="';
    const challenged = await service.getToken({ ...request, wwwAuthenticate: challenge });
    assert.notEqual(challenged.accessToken, cached.accessToken);
    const last = provider.calls.at(-1)!;
    assert.deepEqual(last.request, { wwwAuthenticate: 'Bearer claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="', fallbackScopes: ['User.Read', 'VSCODE_TENANT:organizations'] });
    assert.deepEqual(provider.claims, ['{"access_token":{}}']);
  });

  it('reports status without tokens and audits without secrets', async () => {
    const { service, audit } = setup();
    const token = await service.getToken(request);
    const status = service.status();
    assert.deepEqual(status.grantedScopes, ['User.Read']);
    assert.equal(status.account, 'MeganB@contoso.com');
    assert.equal(status.signedIn, true);
    assert.ok(!JSON.stringify(status).includes(token.accessToken));
    assert.ok(!JSON.stringify(audit).includes(token.accessToken));
    assert.ok(audit.some(event => event.event === 'token' && event.outcome === 'ok' && event.tool === 'get_my_profile'));
  });

  it('switching account purges the previous account\'s tokens', async () => {
    const { service, secrets, provider } = setup();
    await service.getToken(request);
    await service.getToken({ tool: 'graph_get', scopes: ['Mail.Read'] });
    await service.switchAccount({ id: 'account-megan', label: 'MeganB@contoso.com' });
    assert.equal(secrets.data.size, 1, 'only the fresh sign-in token remains');
    assert.deepEqual(provider.calls.at(-1)?.options.account, { id: 'account-megan', label: 'MeganB@contoso.com' });
  });

  it('turns consent failures into advice naming entraMcp.clientId', async () => {
    const { provider, service } = setup();
    provider.failWith = new Error('AADSTS65002: Consent between first party application and first party resource must be configured via preauthorization.');
    await assert.rejects(service.getToken(request), (error: Error & { reason: string }) =>
      error.reason === 'TokenUnavailable' && /entraMcp\.clientId/.test(error.message));
  });
});
