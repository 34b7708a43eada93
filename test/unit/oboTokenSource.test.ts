/**
 * The On-Behalf-Of token source against the fake Entra ID's token endpoint (msal-node for
 * real), with a clock the test moves: renewal before expiry, per-user caching, exact scopes,
 * a bounded cache, and errors that say what to do.
 */
import * as assert from 'node:assert/strict';
import { CallContext, runAs } from '../../src/remote/callerContext';
import { OboTokenSource } from '../../src/remote/oboTokenSource';
import { CLOUDS } from '../../src/shared/clouds';
import { isToolError } from '../../src/server/toolError';
import { FakeEntra, FakeEntraUser } from '../helpers/fakeEntra';
import { ALICE, BOB, SERVER_CLIENT_ID, SERVER_SECRET, TENANT_ID } from '../helpers/remoteHarness';

describe('remote server: On-Behalf-Of token source', function () {
  this.timeout(20_000);
  let entra: FakeEntra;
  let clock: number;
  const source = (maxCachedTokens?: number) => new OboTokenSource({
    authorityHost: entra.authorityHost, tenantId: TENANT_ID, clientId: SERVER_CLIENT_ID, credential: { clientSecret: SERVER_SECRET },
    cloud: CLOUDS.AzureCloud, armEndpoint: 'https://management.azure.com', tools: { allowWrites: false, enabledTools: [] },
    maxCachedTokens, now: () => clock,
  });
  const as = (user: FakeEntraUser): CallContext => ({
    caller: { oid: user.oid, tid: user.tid, upn: user.upn, roles: ['Tools.Read'], scopes: ['access_as_user'], expiresAt: 0 },
    assertion: entra.issueAccessToken({ user, audience: SERVER_CLIENT_ID, scp: 'access_as_user' }),
  });
  const exchanges = () => entra.oboExchanges.length;

  beforeEach(async () => {
    entra = new FakeEntra({ apps: [{ clientId: SERVER_CLIENT_ID, clientSecret: SERVER_SECRET }] });
    await entra.start();
    clock = Date.now();
  });
  afterEach(async () => entra.stop());

  it('serves a cached token until five minutes before it expires, then exchanges again', async () => {
    const tokens = source();
    const alice = as(ALICE);
    const first = await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']));
    clock = first.expiresOn - 6 * 60_000;
    assert.equal((await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']))).accessToken, first.accessToken);
    assert.equal(exchanges(), 1);
    clock = first.expiresOn - 4 * 60_000;
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']));
    assert.equal(exchanges(), 2);
  });

  it('exchanges again past the cache when asked to (after a 401) or for a claims challenge', async () => {
    const tokens = source();
    const alice = as(ALICE);
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']));
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read'], { forceRefresh: true }));
    const claims = Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: '1700000000' } } })).toString('base64');
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read'], { wwwAuthenticate: `Bearer error="insufficient_claims", claims="${claims}"` }));
    assert.equal(exchanges(), 3);
  });

  it('never shares a token across users, even for the same scopes', async () => {
    const tokens = source();
    const [alice, bob] = [as(ALICE), as(BOB)];
    const [forAlice, forBob] = await Promise.all([
      runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read'])),
      runAs(bob, () => tokens.getToken('get_my_profile', ['User.Read'])),
    ]);
    assert.notEqual(forAlice.accessToken, forBob.accessToken);
    assert.equal(entra.verifyResourceToken(forAlice.accessToken, 'https://graph.microsoft.com')?.oid, ALICE.oid);
    assert.equal(entra.verifyResourceToken(forBob.accessToken, 'https://graph.microsoft.com')?.oid, BOB.oid);
    assert.equal(forBob.account, BOB.upn);
  });

  it('refuses a scope the tool does not declare, without asking Entra', async () => {
    const tokens = source();
    await assert.rejects(runAs(as(ALICE), () => tokens.getToken('get_my_profile', ['Mail.Read'])),
      (error: unknown) => isToolError(error) && error.code === 'ScopeNotAllowed' && /only the permissions it declares/.test(error.message));
    await assert.rejects(runAs(as(ALICE), () => tokens.getToken('send_mail', ['Mail.Send'])), /may not obtain/, 'write tools are off');
    assert.equal(exchanges(), 0);
  });

  it('keeps at most the configured number of tokens, forgetting the least recently used', async () => {
    const tokens = source(2);
    const alice = as(ALICE);
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']));
    await runAs(as(BOB), () => tokens.getToken('get_my_profile', ['User.Read']));
    await runAs(as({ ...BOB, oid: 'c4a20000-0000-4000-8000-000000000003', upn: 'carol@contoso.com' }), () => tokens.getToken('get_my_profile', ['User.Read']));
    await runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read']));
    assert.equal(exchanges(), 4, 'Alice\'s token was evicted');
  });

  it('says to try again when Entra is unavailable, and recovers when it is back', async () => {
    const tokens = source();
    entra.failTokenEndpoint();
    await assert.rejects(runAs(as(ALICE), () => tokens.getToken('get_my_profile', ['User.Read'])),
      (error: unknown) => isToolError(error) && /Try again/.test(error.message) && !/eyJ/.test(error.message));
    entra.clearFailures();
    assert.ok((await runAs(as(ALICE), () => tokens.getToken('get_my_profile', ['User.Read']))).accessToken);
  });

  it('says Entra could not be reached when its token endpoint is gone', async () => {
    const tokens = source();
    const alice = as(ALICE);
    await entra.stop();
    await assert.rejects(runAs(alice, () => tokens.getToken('get_my_profile', ['User.Read'])),
      (error: unknown) => isToolError(error) && error.code === 'NetworkError' && /could not be reached/.test(error.message));
    await entra.start();
  });

  it('says to sign in again when the caller\'s token is no longer accepted', async () => {
    const tokens = source();
    const expired = { ...as(ALICE), assertion: entra.issueAccessToken({ user: ALICE, audience: SERVER_CLIENT_ID, scp: 'access_as_user', expiresInSeconds: -60 }) };
    await assert.rejects(runAs(expired, () => tokens.getToken('get_my_profile', ['User.Read'])),
      (error: unknown) => isToolError(error) && error.code === 'NotSignedIn' && /sign in again/i.test(error.message));
  });

  it('says to sign in again when Entra asks for interaction (multi-factor authentication, Conditional Access)', async () => {
    const tokens = source();
    entra.failTokenEndpoint({ status: 400, body: {
      error: 'interaction_required', suberror: 'basic_action', error_codes: [50076],
      error_description: 'AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access \'00000003-0000-0000-c000-000000000000\'.',
      claims: '{"access_token":{"capolids":{"essential":true,"values":["c1"]}}}',
    } });
    await assert.rejects(runAs(as(ALICE), () => tokens.getToken('get_my_profile', ['User.Read'])),
      (error: unknown) => isToolError(error) && error.code === 'NotSignedIn' && /multi-factor authentication or a Conditional Access/.test(error.message));
  });

  it('has no caller outside a request', async () => {
    await assert.rejects(source().getToken('get_my_profile', ['User.Read']), (error: unknown) => isToolError(error) && error.code === 'NotSignedIn');
  });
});
