import * as assert from 'node:assert/strict';
import { readFakeToken } from '../helpers/tokens';
import { setupTokenService as setup } from '../helpers/tokenServiceSetup';
import { waitFor } from '../helpers/waitFor';

const profile = { tool: 'get_my_profile', scopes: ['User.Read'] };
const mail = { tool: 'list_messages', scopes: ['Mail.Read'] };
const reasonOf = (error: unknown) => (error as { reason?: string }).reason;
const issuedBy = (accessToken: string) => readFakeToken(accessToken)?.n as number;

describe('sign-out races', () => {
  it('a token request in flight during sign-out is not served, does not sign the user back in and does not fill the cache', async () => {
    const { provider, service, secrets } = setup({ promptForSignIn: false });
    const release = provider.holdNextCall();
    const inFlight = service.getToken(profile);
    await waitFor(() => provider.calls.length === 1, 'the provider call started', 2_000, 5);
    await service.signOut();
    release();
    await assert.rejects(inFlight, (error: Error) => reasonOf(error) === 'NotSignedIn' && /signed out/.test(error.message));
    assert.equal(service.isSignedOut(), true, 'still signed out');
    assert.equal(service.account(), undefined);
    assert.equal(secrets.data.size, 0, 'the cache stays empty');
    assert.equal(service.status().signedIn, false);
  });

  it('an interactive sign-in still open when the user signs out does not sign them in', async () => {
    const { provider, service, secrets } = setup();
    const release = provider.holdNextCall();
    const signingIn = service.signIn();
    await waitFor(() => provider.calls.length === 1, 'the sign-in started', 2_000, 5);
    await service.signOut();
    release();
    await assert.rejects(signingIn, (error: unknown) => reasonOf(error) === 'NotSignedIn');
    assert.equal(service.isSignedOut(), true);
    assert.equal(secrets.data.size, 0);
  });

  for (const change of ['clear the cache', 'switch account', 'change tenant'] as const) {
    it(`a token obtained before the user chose to ${change} is discarded, and the request is answered under the new settings`, async () => {
      const { provider, service, secrets, settings } = setup();
      await service.getToken(profile);
      const release = provider.holdNextCall();
      const inFlight = service.getToken(mail);
      await waitFor(() => provider.calls.length === 2, 'the provider call started', 2_000, 5);
      if (change === 'clear the cache') {
        await service.clearCache('Clear Token Cache command');
      } else if (change === 'switch account') {
        await service.switchAccount({ id: 'account-megan', label: 'MeganB@contoso.com' });
      } else {
        settings.tenant = 'contoso.onmicrosoft.com';
        await service.clearCache('tenant, client id or cloud changed');
      }
      const heldCall = provider.calls[1];
      release();
      const served = await inFlight;
      const stale = issuedBy(heldCall.accessToken!);
      assert.notEqual(served.accessToken, heldCall.accessToken, 'the token obtained before the change is not served');
      const retried = provider.calls.at(-1)!;
      assert.deepEqual(retried.request, ['Mail.Read', `VSCODE_TENANT:${settings.tenant}`]);
      const cached = [...secrets.data.values()].map(value => issuedBy(JSON.parse(value).accessToken));
      assert.ok(!cached.includes(stale), 'the stale token was not cached');
    });
  }
});
