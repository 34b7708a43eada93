import * as assert from 'node:assert/strict';
import { formatAuditEvent } from '../../src/extension/audit';
import { parseBearerChallenge, validateClaims } from '../../src/shared/claimsChallenge';
import { ProviderSession } from '../../src/extension/auth/providerTypes';
import { TokenCache } from '../../src/extension/auth/tokenCache';
import { TokenService } from '../../src/extension/auth/tokenService';
import { CLOUDS } from '../../src/shared/clouds';
import { readFakeToken } from '../helpers/tokens';
import { setupTokenService as setup } from '../helpers/tokenServiceSetup';

const request = { tool: 'get_my_profile', scopes: ['User.Read'] };
/** A continuous-access-evaluation claims request, as Microsoft documents it. */
const CLAIMS_JSON = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}';
const CLAIMS = Buffer.from(CLAIMS_JSON).toString('base64');
const challenge = (extra: string) => `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", ${extra}claims="${CLAIMS}"`;
const reasonOf = (error: unknown) => (error as { reason?: string }).reason;

describe('claims challenge', () => {
  it('refuses a challenge naming another scope: no Mail.Send token is minted, cached or served to honest calls', async () => {
    const { provider, service, audit } = setup();
    await assert.rejects(service.getToken({ ...request, wwwAuthenticate: challenge('scope="Mail.Send", ') }),
      (error: Error) => reasonOf(error) === 'ScopeNotAllowed' && /get_my_profile/.test(error.message) && !error.message.includes(CLAIMS));
    const honest = await service.getToken(request);
    assert.equal(readFakeToken(honest.accessToken)?.scp, 'User.Read');
    assert.ok(provider.calls.every(call => !JSON.stringify(call.request).includes('Mail.Send')), 'the provider was never asked for Mail.Send');
    const refused = audit.find(event => event.outcome === 'refused' && event.tool === 'get_my_profile');
    assert.ok(refused, 'the refusal is audited');
    assert.match(formatAuditEvent(refused), /Mail\.Send/);
    assert.ok(!JSON.stringify(audit).includes(CLAIMS) && !JSON.stringify(audit).includes('1604106651'), 'no audit line carries the claims');
  });

  it('refuses a challenge choosing another tenant, client id or resource', async () => {
    for (const scope of [
      'User.Read VSCODE_TENANT:f8cdef31-a31e-4b4a-93e4-5f571e91255a',
      'User.Read VSCODE_CLIENT_ID:04b07795-8ddb-461a-bbee-02f9e1bf7b46',
      'vscode_tenant:common',
      'https://management.azure.com/user_impersonation',
      'https://graph.microsoft.com/.default',
    ]) {
      const { provider, service, audit } = setup();
      await assert.rejects(service.getToken({ ...request, wwwAuthenticate: challenge(`scope="${scope}", `) }), (error: unknown) => reasonOf(error) === 'ScopeNotAllowed', scope);
      assert.equal(provider.calls.length, 0, scope);
      assert.ok(audit.some(event => event.outcome === 'refused' && /claims challenge refused/.test(event.detail ?? '')), scope);
      assert.ok(!JSON.stringify(audit).includes('f8cdef31') && !JSON.stringify(audit).includes('04b07795'), 'pseudo-scope values stay out of the log');
    }
  });

  it('asks the provider for exactly the tool\'s scopes with the challenge\'s claims, in a form VS Code reads', async () => {
    const { provider, service } = setup({ tenant: 'contoso.onmicrosoft.com' });
    // A scope the tool asked for anyway is harmless; the JSON form of claims is accepted too.
    const json = `Bearer error="insufficient_claims", scope="user.read", claims="${CLAIMS_JSON.replace(/"/g, '\\"')}"`;
    for (const wwwAuthenticate of [challenge(''), json]) {
      const token = await service.getToken({ ...request, wwwAuthenticate });
      assert.equal(readFakeToken(token.accessToken)?.scp, 'User.Read');
      assert.deepEqual(provider.calls.at(-1)?.request, {
        wwwAuthenticate: `Bearer claims="${CLAIMS}"`, fallbackScopes: ['User.Read', 'VSCODE_TENANT:contoso.onmicrosoft.com'],
      });
    }
    assert.deepEqual(provider.claims, [CLAIMS_JSON, CLAIMS_JSON]);
  });

  it('refuses malformed or oversized challenges without asking the provider', async () => {
    const bad = [
      'Bearer error="insufficient_claims"',
      'Bearer claims="bm90IGpzb24="',
      `Bearer claims="${Buffer.from('["access_token"]').toString('base64')}"`,
      `Bearer claims="${Buffer.from('{"xms_cc":["cp1"]}').toString('base64')}"`,
      `Bearer claims="${Buffer.from(JSON.stringify({ access_token: { x: 'y'.repeat(5000) } })).toString('base64')}"`,
      `Bearer claims="${CLAIMS}", claims="${CLAIMS}"`,
      `Bearer claims="${CLAIMS}", Basic realm="x"`,
      `Basic claims="${CLAIMS}"`,
      `Bearer claims="${CLAIMS}`,
      `Bearer claims="${CLAIMS}", nonce="x"`,
      `Bearer claims="${CLAIMS}"\r\nX-Injected: 1`,
    ];
    for (const wwwAuthenticate of bad) {
      const { provider, service } = setup();
      await assert.rejects(service.getToken({ ...request, wwwAuthenticate }), (error: Error) => reasonOf(error) === 'InvalidParams' && !error.message.includes(CLAIMS), wwwAuthenticate);
      assert.equal(provider.calls.length, 0, wwwAuthenticate);
    }
  });

  it('parses Bearer auth-params strictly, quoted strings included', () => {
    assert.deepEqual(Object.fromEntries(parseBearerChallenge('Bearer realm="", error=insufficient_claims, claims="a\\"b,c"')!), { realm: '', error: 'insufficient_claims', claims: 'a"b,c' });
    assert.deepEqual(Object.fromEntries(parseBearerChallenge('bearer Claims="x"')!), { claims: 'x' });
    for (const header of ['Bearerclaims="x"', 'Bearer claims', 'Bearer claims="x" realm=""', 'Bearer =x', 'Bearer claims="x\u0000"']) {
      assert.equal(parseBearerChallenge(header), undefined, JSON.stringify(header));
    }
    assert.equal(validateClaims(Buffer.from(CLAIMS_JSON).toString('base64url')), CLAIMS_JSON);
    assert.equal(validateClaims(' '.repeat(10) + CLAIMS_JSON), CLAIMS_JSON);
    assert.equal(validateClaims(Buffer.from([0xff, 0xfe, 0x7b]).toString('base64')), undefined);
  });

  it('caches a token only under the scopes it was granted for', async () => {
    const { provider, secrets, state } = setup();
    // A provider that answers with a session for other permissions than were asked.
    const widened = (scopes: readonly string[]): ProviderSession => provider.session(['Mail.Send', ...scopes.filter(scope => scope.startsWith('VSCODE_'))]);
    const narrowed = (scopes: readonly string[]): ProviderSession => ({ ...provider.session(scopes), accessToken: provider.session(['Mail.Read', 'VSCODE_TENANT:organizations']).accessToken });
    for (const answer of [widened, narrowed]) {
      const service = new TokenService({
        getSession: async (_id, scopes) => answer(scopes as readonly string[]),
        cache: new TokenCache(secrets), state, settings: () => ({ cloud: CLOUDS.AzureCloud, tenant: 'organizations', promptForSignIn: false }),
        confirmSignIn: async () => false, audit: () => {},
      });
      await assert.rejects(service.getToken(request), (error: Error) => reasonOf(error) === 'TokenUnavailable' && /does not match/.test(error.message));
      assert.equal(secrets.data.size, 0, 'nothing was cached');
    }
  });

  it('keeps tokens and claims out of provider errors', async () => {
    const { provider, service } = setup();
    const leaked = `eyJ0eXAiOiJKV1QifQ.eyJzY3AiOiJVc2VyLlJlYWQifQ.c2lnbmF0dXJlc2lnbmF0dXJl`;
    provider.failWith = new Error(`AADSTS50076: claims ${CLAIMS} rejected for ${leaked} and ${CLAIMS_JSON}`);
    await assert.rejects(service.getToken({ ...request, wwwAuthenticate: challenge('') }), (error: Error) =>
      reasonOf(error) === 'TokenUnavailable' && /AADSTS50076/.test(error.message)
      && !error.message.includes(CLAIMS) && !error.message.includes(leaked) && !error.message.includes('1604106651'));
  });
});

describe('scope case', () => {
  it('serves mail.read and Mail.Read from one cache entry after one provider call', async () => {
    const { provider, service, secrets } = setup();
    provider.delayMs = 20;
    const [first, second] = await Promise.all([
      service.getToken({ tool: 'list_messages', scopes: ['Mail.Read'] }),
      service.getToken({ tool: 'list_messages', scopes: ['mail.read'] }),
    ]);
    const third = await service.getToken({ tool: 'list_messages', scopes: ['MAIL.READ', 'mail.read'] });
    assert.equal(provider.calls.length, 1);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(third.accessToken, first.accessToken);
    assert.equal(secrets.data.size, 1);
  });

  it('maps every case variant of a public-cloud ARM scope to the sovereign cloud', async () => {
    const { provider, service } = setup({ cloud: CLOUDS.AzureUSGovernment });
    await service.getToken({ tool: 'list_subscriptions', scopes: ['HTTPS://MANAGEMENT.AZURE.COM/user_impersonation'] });
    assert.deepEqual(provider.calls[0].request, ['https://management.usgovcloudapi.net/user_impersonation', 'VSCODE_TENANT:organizations']);
  });
});
