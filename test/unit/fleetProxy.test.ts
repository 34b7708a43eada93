/**
 * Proxy mode as a fleet: the authorization server's state (clients, pending authorizations,
 * codes, refresh-token families, Entra sessions) lives in Redis, so each step of a sign-in may
 * land on another replica behind the load balancer and the client never notices; without Redis
 * the sign-in endpoints answer 503 with Retry-After rather than a weaker check.
 */
import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Fleet, fleetAvailable, startFleet } from '../helpers/fleetHarness';
import { recordVisible } from '../helpers/leakWatch';
import { TestClientProvider, signIn, tokenRequest } from '../helpers/proxyClient';
import { ALICE, proxyEnv } from '../helpers/remoteHarness';
import { waitFor } from '../helpers/waitFor';

describe('remote server: proxy mode as a fleet', function () {
  this.timeout(120_000);
  let fleet: Fleet;

  before(async function () {
    if (!fleetAvailable()) {
      this.skip();
    }
    fleet = await startFleet(proxyEnv());
    fleet.entra.addUser(ALICE, { roles: ['Tools.Read'] });
    fleet.entra.signInAs(ALICE);
  });
  after(async () => fleet?.stop());

  it('signs clients in across replicas and serves, refreshes and rotates through any of them', async () => {
    const providers = await Promise.all(Array.from({ length: 6 }, (_, index) => signIn(fleet, new TestClientProvider(`Fleet client ${index}`))));
    for (const provider of providers) {
      const client = new Client({ name: 'fleet-proxy', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(fleet.url), { authProvider: provider }));
      const result = await client.callTool({ name: 'get_my_profile', arguments: {} }) as { structuredContent?: { userPrincipalName?: string } };
      recordVisible('fleet proxy result', JSON.stringify(result));
      assert.equal(result.structuredContent?.userPrincipalName, ALICE.upn);
      await client.close();
      const rotated = await tokenRequest(fleet, { grant_type: 'refresh_token', refresh_token: provider.saved?.refresh_token as string, client_id: provider.client?.client_id as string });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const replay = await tokenRequest(fleet, { grant_type: 'refresh_token', refresh_token: provider.saved?.refresh_token as string, client_id: provider.client?.client_id as string });
      assert.equal(replay.body.error, 'invalid_grant', 'reuse is seen by every replica');
    }
    const served = fleet.replicas.map(replica => (replica.output().match(/"event":"token_issued"/g) ?? []).length);
    assert.ok(served.filter(count => count > 0).length >= 2, `token requests landed on several replicas: ${served.join(', ')}`);
    assert.equal(fleet.entra.refreshGrants.filter(grant => grant.oid === ALICE.oid).length, 1, 'one silent Graph token for the user, shared by the fleet');
  });

  it('answers the sign-in endpoints with 503 and Retry-After while Redis is down, and signs in again once it is back', async () => {
    await fleet.redis.kill();
    const provider = new TestClientProvider('During the outage');
    await waitFor(async () => (await fetch(new URL('/register', fleet.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status === 503,
      'the outage seen', 10_000);
    const refused = await fetch(new URL('/register', fleet.url), {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(provider.clientMetadata),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    await fleet.redis.restart();
    await waitFor(async () => (await fetch(new URL('/.well-known/oauth-authorization-server', fleet.url))).status === 200 &&
      (await Promise.all(fleet.replicas.map(async replica => ((await (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).json()) as { status: string }).status)))
        .every(status => status === 'ready'), 'Redis back for every replica', 15_000);
    assert.equal(await auth(provider, { serverUrl: fleet.url }), 'REDIRECT');
    await signIn(fleet, provider);
    assert.ok(provider.saved?.access_token);
  });
});
