/**
 * The authorization server's store, in memory and in Redis: the same behaviour from both
 * (expiry, single-use take under concurrency), and from Redis also namespaced keys that all
 * expire, values kept exactly as given, and fast, clear failure while Redis is down followed by
 * automatic recovery. Redis here is a real redis-server with a password.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type AuthStore, MemoryAuthStore } from '../../src/remote/proxy/authStore';
import { RedisAuthStore, StoreUnavailable } from '../../src/remote/fleet/redisAuthStore';
import { connectRedis, isRedisReady } from '../../src/remote/fleet/redisConnection';
import { rememberCredential } from '../helpers/leakWatch';
import { REDIS_UNAVAILABLE_MESSAGE, type RedisServer, redisAvailable, startRedis } from '../helpers/redisServer';
import { waitFor } from '../helpers/waitFor';

const PREFIX = 'entra-mcp-test:';

interface StoreUnderTest {
  store: AuthStore;
  close(): Promise<void>;
}

/** A password-protected redis-server and a store on it; `raw` is a client without keyPrefix, to see the keys as Redis holds them. */
async function redisFixture(): Promise<{ server: RedisServer; client: Redis; raw: Redis; store: RedisAuthStore; close(): Promise<void> }> {
  const password = randomBytes(18).toString('base64url');
  rememberCredential(password);
  const server = await startRedis({ password });
  const client = connectRedis(server.url, PREFIX);
  const raw = connectRedis(server.url, '');
  await waitFor(() => isRedisReady(client) && isRedisReady(raw), 'the Redis clients to be ready', 5_000, 20);
  return {
    server, client, raw, store: new RedisAuthStore(client),
    async close() {
      client.disconnect();
      raw.disconnect();
      await server.stop();
    },
  };
}

const implementations: Array<{ name: string; needsRedis: boolean; open(): Promise<StoreUnderTest> }> = [
  { name: 'MemoryAuthStore', needsRedis: false, open: async () => ({ store: new MemoryAuthStore(), close: async () => {} }) },
  { name: 'RedisAuthStore', needsRedis: true, open: redisFixture },
];

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

describe('remote server: auth stores', () => {
  for (const implementation of implementations) {
    describe(implementation.name, () => {
      let subject: StoreUnderTest | undefined;
      const store = (): AuthStore => subject!.store;

      before(async function () {
        if (implementation.needsRedis && !redisAvailable()) { this.skip(); }
        subject = await implementation.open();
      });
      after(async () => { await subject?.close(); });

      it('gets what was put, per kind, and a newer put replaces the value', async () => {
        await store().put('client', 'shared-key', 'client-value', 60_000);
        await store().put('consent', 'shared-key', 'consent-value', 60_000);
        assert.equal(await store().get('client', 'shared-key'), 'client-value');
        assert.equal(await store().get('consent', 'shared-key'), 'consent-value', 'kinds do not collide');
        await store().put('client', 'shared-key', 'replaced', 60_000);
        assert.equal(await store().get('client', 'shared-key'), 'replaced');
        assert.equal(await store().get('client', 'never-put'), undefined);
      });

      it('forgets an entry once its lifetime is over', async () => {
        await store().put('code', 'short-lived', 'v', 150);
        await store().put('code', 'long-lived', 'v', 60_000);
        assert.equal(await store().get('code', 'short-lived'), 'v');
        await sleep(300);
        assert.equal(await store().get('code', 'short-lived'), undefined);
        assert.equal(await store().take('code', 'short-lived'), undefined, 'an expired code cannot be taken either');
        assert.equal(await store().get('code', 'long-lived'), 'v');
        await store().put('code', 'born-expired', 'v', 0);
        assert.equal(await store().get('code', 'born-expired'), undefined, 'a lifetime of 0 keeps nothing');
      });

      it('lets exactly one of 50 concurrent takes have a single-use entry', async () => {
        await store().put('code', 'one-code', 'the-grant', 60_000);
        const taken = await Promise.all(Array.from({ length: 50 }, () => store().take('code', 'one-code')));
        const winners = taken.filter(value => value !== undefined);
        assert.equal(winners.length, 1, `${winners.length} of 50 concurrent takes got the entry`);
        assert.equal(winners[0], 'the-grant');
        assert.equal(await store().get('code', 'one-code'), undefined);
      });

      it('deletes an entry, and deleting a missing one is no error', async () => {
        await store().put('session', 'user-1', 'sealed-session', 60_000);
        await store().delete('session', 'user-1');
        assert.equal(await store().get('session', 'user-1'), undefined);
        await store().delete('session', 'user-1');
      });
    });
  }

  describe('RedisAuthStore only', function () {
    let fixture: Awaited<ReturnType<typeof redisFixture>> | undefined;

    before(async function () {
      if (!redisAvailable()) {
        console.log(REDIS_UNAVAILABLE_MESSAGE);
        this.skip();
      }
      fixture = await redisFixture();
    });
    after(async () => { await fixture?.close(); });

    it('puts every key under the prefix, with a TTL, and stores values exactly as given', async () => {
      const { store, raw } = fixture!;
      const value = randomBytes(48).toString('base64url');
      await store.put('refresh', 'digest-1', value, 60_000);
      await store.put('family', 'family-1', 'active', 120_000);
      await store.put('code', 'digest-2', 'x', 5_000);
      const keys = (await raw.keys('*')).sort();
      assert.deepEqual(keys, [`${PREFIX}code:digest-2`, `${PREFIX}family:family-1`, `${PREFIX}refresh:digest-1`]);
      for (const key of keys) {
        const ttl = await raw.pttl(key);
        assert.ok(ttl > 0, `${key} expires (PTTL ${ttl})`);
      }
      assert.equal(await raw.get(`${PREFIX}refresh:digest-1`), value, 'the store adds nothing around the sealed value');
      assert.equal(await store.get('refresh', 'digest-1'), value);
    });

    it('answers StoreUnavailable quickly while Redis is down, and works again after it restarts', async () => {
      const { server, client, store } = fixture!;
      await server.kill();
      await waitFor(() => !isRedisReady(client), 'the client to notice Redis is gone', 3_000, 20);
      for (const operation of [
        () => store.put('code', 'k', 'v', 60_000), () => store.get('code', 'k'), () => store.take('code', 'k'), () => store.delete('code', 'k'),
      ]) {
        const started = Date.now();
        await assert.rejects(operation(), (error: unknown) => error instanceof StoreUnavailable && error.retryAfterSeconds > 0);
        assert.ok(Date.now() - started < 2_000, 'no command waits for a connection');
      }
      await server.restart();
      await waitFor(() => isRedisReady(client), 'the client to reconnect by itself', 5_000, 20);
      await store.put('code', 'after-restart', 'v', 60_000);
      assert.equal(await store.take('code', 'after-restart'), 'v');
    });

    it('rejects within about a second when Redis stops answering on an open connection', async () => {
      const { client, raw, store } = fixture!;
      await waitFor(() => isRedisReady(client) && isRedisReady(raw), 'the clients to be ready', 5_000, 20);
      // A paused server keeps the socket open but answers nothing: only the command timeout ends the wait.
      // The pause ends by itself (UNPAUSE would be paused too).
      await raw.client('PAUSE', 1_500, 'ALL');
      const started = Date.now();
      await assert.rejects(store.get('code', 'k'), StoreUnavailable);
      assert.ok(Date.now() - started < 2_000, `rejected after ${Date.now() - started} ms`);
      await waitFor(() => raw.ping().then(() => true, () => false), 'the pause to end', 5_000, 100);
      assert.equal(await store.get('code', 'k'), undefined, 'and it answers again');
    });
  });

  describe('connectRedis', () => {
    it('accepts only redis:// and rediss:// URLs, naming the setting and never echoing the URL', () => {
      for (const url of ['http://:secret-in-url@cache:6379', 'cache:6379', 'redis://', 'not a url']) {
        assert.throws(() => connectRedis(url, PREFIX), (error: Error) => /ENTRA_MCP_REDIS_URL/.test(error.message) && !error.message.includes('secret-in-url'), url);
      }
    });

    it('reports connection failures as events instead of crashing, and reconnects with a capped backoff', async function () {
      const events: string[] = [];
      // Port 1 on loopback refuses at once; without the 'error' listener this would be an unhandled error.
      const client = connectRedis('redis://127.0.0.1:1', PREFIX, event => events.push(event));
      try {
        await waitFor(() => events.includes('error') && events.includes('reconnecting'), 'an error then a reconnection attempt', 3_000, 20);
        assert.equal(isRedisReady(client), false);
        await assert.rejects(new RedisAuthStore(client).get('code', 'k'), StoreUnavailable);
      } finally {
        client.disconnect();
      }
    });
  });
});
