/** Proxy mode's state at rest: sealed values and key rotation, bounded expiring entries, single-use codes and refresh-token families. */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryAuthStore, STORE_LIMITS } from '../../src/remote/proxy/authStore';
import { isPrivateAddress } from '../../src/remote/proxy/clientRegistry';
import { Grants } from '../../src/remote/proxy/grants';
import { SealedBox } from '../../src/remote/proxy/sealedBox';

const alice = { oid: 'a11ce000-0000-4000-8000-000000000001', tid: '3f2a6c1e-8b4d-4e7a-9c5f-1d2e3f4a5b6c', upn: 'alice@contoso.com', roles: ['Tools.Read'] };
const grant = { clientId: 'client-1', user: alice, scopes: ['mcp:tools'], resource: 'https://mcp.contoso.com/mcp' };

describe('remote server: proxy state at rest', () => {
  it('seals with the newest key, opens with any key of the ring, and refuses altered or misplaced values', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const sealedWithOld = new SealedBox([oldKey]).seal('refresh-token-value', 'session');
    const ring = new SealedBox([newKey, oldKey]);
    assert.equal(ring.open(sealedWithOld, 'session'), 'refresh-token-value', 'rotation: old data still opens');
    assert.equal(new SealedBox([newKey]).open(sealedWithOld, 'session'), undefined, 'once the old key is dropped it does not');
    const sealed = ring.seal('secret', 'session');
    assert.ok(!sealed.includes('secret'));
    assert.equal(ring.open(sealed, 'code'), undefined, 'bound to its purpose');
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
    assert.equal(ring.open(tampered, 'session'), undefined);
    assert.throws(() => new SealedBox([randomBytes(16)]), /32-byte/);
  });

  it('expires entries and keeps each kind within its bound', async () => {
    let now = 0;
    const store = new MemoryAuthStore(() => now);
    await store.put('code', 'a', '1', 60_000);
    now = 59_999;
    assert.equal(await store.get('code', 'a'), '1');
    now = 60_000;
    assert.equal(await store.get('code', 'a'), undefined);
    for (let i = 0; i <= STORE_LIMITS.cimd; i++) { await store.put('cimd', `k${i}`, 'v', 60_000); }
    assert.equal(await store.get('cimd', 'k0'), undefined, 'the oldest went first');
    assert.equal(await store.get('cimd', `k${STORE_LIMITS.cimd}`), 'v');
    await store.put('code', 'b', '1', 60_000);
    assert.equal(await store.take('code', 'b'), '1');
    assert.equal(await store.take('code', 'b'), undefined, 'taken once');
  });

  it('redeems a code once, and keeps codes and refresh tokens only as digests of sealed grants', async () => {
    const store = new MemoryAuthStore();
    const grants = new Grants(store, new SealedBox([randomBytes(32)]));
    const code = await grants.issueCode({ ...grant, redirectUri: 'http://127.0.0.1:1/cb', codeChallenge: 'challenge' });
    const refresh = await grants.issueRefreshToken(grant);
    assert.ok(store.dump().every(entry => !entry.includes(code) && !entry.includes(refresh) && !entry.includes('alice@contoso.com')));
    assert.equal((await grants.peekCode(code))?.codeChallenge, 'challenge');
    assert.equal((await grants.redeemCode(code))?.user.oid, alice.oid);
    assert.equal(await grants.redeemCode(code), undefined);
  });

  it('rotates refresh tokens within a family, and a reused one revokes the family', async () => {
    const grants = new Grants(new MemoryAuthStore(), new SealedBox([randomBytes(32)]));
    const first = await grants.issueRefreshToken(grant);
    const rotated = await grants.rotateRefreshToken(first);
    assert.ok('grant' in rotated);
    const second = await grants.issueRefreshToken(grant, rotated.grant.familyId);
    assert.deepEqual(await grants.rotateRefreshToken(first), { refused: 'reused' });
    assert.deepEqual(await grants.rotateRefreshToken(second), { refused: 'revoked' });
    assert.deepEqual(await grants.rotateRefreshToken('never-issued'), { refused: 'unknown' });
  });

  it('refuses to fetch client metadata from loopback, private, link-local, CGNAT or mapped addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:169.254.169.254']) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of ['20.190.160.1', '100.128.0.1', '172.32.0.1', '2603:1030::1']) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });

  it('revoking a refresh token ends its family', async () => {
    const grants = new Grants(new MemoryAuthStore(), new SealedBox([randomBytes(32)]));
    const token = await grants.issueRefreshToken(grant);
    const next = await grants.rotateRefreshToken(token);
    assert.ok('grant' in next);
    const current = await grants.issueRefreshToken(grant, next.grant.familyId);
    assert.equal((await grants.revokeRefreshToken(current))?.clientId, 'client-1');
    assert.deepEqual(await grants.rotateRefreshToken(current), { refused: 'unknown' });
  });
});
