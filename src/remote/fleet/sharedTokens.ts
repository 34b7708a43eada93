/**
 * The fleet's shared Graph/ARM token cache: one On-Behalf-Of (or silent) exchange per user and
 * scope set serves every replica. Entries are sealed (AES-256-GCM) before they reach Redis and
 * expire with the token; a short lock lets one replica exchange while the others wait, and
 * expires by itself so a crashed replica blocks nobody for long.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SealedBox, digest } from '../proxy/sealedBox';

export interface SharedToken {
  readonly accessToken: string;
  readonly expiresOn: number;
  readonly scopes: readonly string[];
}

export interface SharedTokens {
  get(key: string): Promise<SharedToken | undefined>;
  set(key: string, token: SharedToken, ttlMs: number): Promise<void>;
  /** Takes the exchange lock for `key`; resolves with its holder's token, or undefined when another replica holds it. */
  lock(key: string, ttlMs: number): Promise<string | undefined>;
  unlock(key: string, holder: string): Promise<void>;
}

/** Deletes the lock only if this holder still has it (it may have expired and gone to another). */
const UNLOCK_SCRIPT = 'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end';

export class RedisSharedTokens implements SharedTokens {
  constructor(private readonly redis: Redis, private readonly box: SealedBox) {}

  async get(key: string): Promise<SharedToken | undefined> {
    const sealed = await this.redis.get(tokenKey(key));
    const text = sealed ? this.box.open(sealed, 'shared-token') : undefined;
    return text ? JSON.parse(text) as SharedToken : undefined;
  }

  async set(key: string, token: SharedToken, ttlMs: number): Promise<void> {
    if (ttlMs > 0) {
      await this.redis.set(tokenKey(key), this.box.seal(JSON.stringify(token), 'shared-token'), 'PX', Math.ceil(ttlMs));
    }
  }

  async lock(key: string, ttlMs: number): Promise<string | undefined> {
    const holder = randomUUID();
    return (await this.redis.set(lockKey(key), holder, 'PX', ttlMs, 'NX')) === 'OK' ? holder : undefined;
  }

  async unlock(key: string, holder: string): Promise<void> {
    await this.redis.eval(UNLOCK_SCRIPT, 1, lockKey(key), holder);
  }
}

/** Keys name no user: a digest of tenant, user and scopes. */
function tokenKey(key: string): string {
  return `token:${digest(key)}`;
}

function lockKey(key: string): string {
  return `lock:${digest(key)}`;
}
