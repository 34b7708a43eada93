/**
 * The token cache: one SecretStorage entry per (provider, account, tenant, sorted scopes),
 * mirrored in memory so a warm request never waits on the OS keychain. Corrupt or foreign
 * entries are dropped, never fatal.
 */
import * as z from 'zod/mini';
import { normalizeScopes, scopeKey } from '../../shared/scopes';

/** The slice of `vscode.SecretStorage` the cache uses. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
  keys(): PromiseLike<string[]>;
}

export interface CacheKeyParts {
  providerId: string;
  accountId: string;
  tenant: string;
  scopes: readonly string[];
}

const CachedTokenSchema = z.strictObject({
  accessToken: z.string().check(z.minLength(1)),
  expiresOn: z.number(),
  account: z.object({ id: z.string(), label: z.string() }),
  tenantId: z.string(),
  scopes: z.array(z.string()),
});
export type CachedToken = z.infer<typeof CachedTokenSchema>;

export const CACHE_KEY_PREFIX = 'entraMcp.token.v1|';

/** Scope names are case-insensitive in Entra: `mail.read` and `Mail.Read` share one entry. */
export function cacheKey(parts: CacheKeyParts): string {
  return [CACHE_KEY_PREFIX + parts.providerId, parts.accountId, parts.tenant.toLowerCase(),
    normalizeScopes(parts.scopes).map(scopeKey).join(' ')].join('|');
}

/** A token is served only while more than this remains before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export function isFresh(token: CachedToken, now: number): boolean {
  return token.expiresOn - now > REFRESH_MARGIN_MS;
}

export class TokenCache {
  private readonly memory = new Map<string, CachedToken>();

  constructor(private readonly secrets: SecretStore, private readonly onDropped: (detail: string) => void = () => {}) {}

  async get(key: string): Promise<CachedToken | undefined> {
    const inMemory = this.memory.get(key);
    if (inMemory) {
      return inMemory;
    }
    const stored = await this.secrets.get(key);
    if (stored === undefined) {
      return undefined;
    }
    const parsed = parseCachedToken(stored);
    if (!parsed) {
      this.onDropped('a corrupt token cache entry was dropped');
      await this.secrets.delete(key);
      return undefined;
    }
    this.memory.set(key, parsed);
    return parsed;
  }

  async set(key: string, token: CachedToken): Promise<void> {
    this.memory.set(key, token);
    await this.secrets.store(key, JSON.stringify(token));
  }

  async delete(key: string): Promise<void> {
    this.memory.delete(key);
    await this.secrets.delete(key);
  }

  /** Tokens in memory, for status (which scopes are granted): never leaves the extension host. */
  entries(): CachedToken[] {
    return [...this.memory.values()];
  }

  /** Removes every entry this extension wrote, in memory and in SecretStorage. */
  async clear(): Promise<number> {
    this.memory.clear();
    const keys = (await this.secrets.keys()).filter(key => key.startsWith(CACHE_KEY_PREFIX));
    await Promise.all(keys.map(key => this.secrets.delete(key)));
    return keys.length;
  }
}

function parseCachedToken(stored: string): CachedToken | undefined {
  try {
    const result = CachedTokenSchema.safeParse(JSON.parse(stored));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
