/**
 * The authorization server's state shared by every replica, in Redis. Same interface and
 * behaviour as MemoryAuthStore; each entry is one key `<kind>:<key>` under the client's
 * keyPrefix (the tenant's namespace), and every key is written with a TTL, so nothing lives
 * forever.
 *
 * Bounds: unlike the memory store, this one does not count entries per kind (that would cost a
 * round trip per write); Redis bounds memory itself. Operators set `maxmemory` with
 * `maxmemory-policy volatile-ttl`, so under pressure the entries closest to expiry go first. An
 * evicted entry only ever fails closed (a code or consent that is gone is refused; a refresh
 * family that is not "active" is revoked). With `noeviction`, writes fail instead and requests
 * get a 503.
 *
 * Values arrive already sealed or hashed by the callers; this store adds nothing in the clear.
 *
 * When Redis is unreachable every operation rejects with StoreUnavailable: the HTTP layer answers
 * 503 with Retry-After, and the authorization server never falls back to a weaker check.
 */
import type { Redis } from 'ioredis';
import type { AuthStore, StoreKind } from '../proxy/authStore';
import { RECONNECT_CAP_MS, isRedisReady } from './redisConnection';

export class StoreUnavailable extends Error {
  /** What a 503 may advertise: reconnection attempts are at most this far apart. */
  readonly retryAfterSeconds = Math.ceil(RECONNECT_CAP_MS / 1000);

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The shared store (Redis) is unavailable: ${reason}`, options);
    this.name = 'StoreUnavailable';
  }
}

const TAKE_SCRIPT = 'local value = redis.call("GET", KEYS[1]) if value then redis.call("DEL", KEYS[1]) end return value';

export class RedisAuthStore implements AuthStore {
  constructor(private readonly redis: Redis) {}

  async put(kind: StoreKind, key: string, value: string, ttlMs: number): Promise<void> {
    const ttl = Math.ceil(ttlMs);
    if (ttl <= 0) {
      // Already expired, as in the memory store: nothing readable remains, and Redis refuses a PX of 0.
      await this.run(() => this.redis.del(storeKey(kind, key)));
      return;
    }
    await this.run(() => this.redis.set(storeKey(kind, key), value, 'PX', ttl));
  }

  async get(kind: StoreKind, key: string): Promise<string | undefined> {
    return (await this.run(() => this.redis.get(storeKey(kind, key)))) ?? undefined;
  }

  /**
   * Reads and removes in one step (a script runs atomically), so of any number of concurrent
   * takes exactly one wins. Not GETDEL: it needs Redis 6.2, and managed caches still run 6.0.
   */
  async take(kind: StoreKind, key: string): Promise<string | undefined> {
    const value = await this.run(() => this.redis.eval(TAKE_SCRIPT, 1, storeKey(kind, key)) as Promise<string | null>);
    return value ?? undefined;
  }

  async delete(kind: StoreKind, key: string): Promise<void> {
    await this.run(() => this.redis.del(storeKey(kind, key)));
  }

  /**
   * Fails fast while disconnected (the offline queue is off, so nothing would wait anyway) and
   * turns every failure — refused connection, timeout, a reply such as LOADING, OOM or NOAUTH —
   * into StoreUnavailable: a caller that cannot read its state must refuse, never guess.
   */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (!isRedisReady(this.redis)) {
      throw new StoreUnavailable(`not connected (${this.redis.status})`);
    }
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailable(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}

function storeKey(kind: StoreKind, key: string): string {
  return `${kind}:${key}`;
}
