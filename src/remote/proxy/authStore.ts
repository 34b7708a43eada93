/**
 * The authorization server's state behind a small interface: clients, pending authorizations,
 * codes, consents, refresh-token families and users' Entra sessions. Every entry has a lifetime
 * and every kind a bound on its number, so no caller can grow it without limit. Values arrive
 * sealed or hashed: the store never sees a token in the clear. This is the in-memory store for
 * one instance; a shared store (Redis) implements the same interface.
 */

export type StoreKind = 'client' | 'pending' | 'code' | 'consent' | 'refresh' | 'family' | 'session' | 'cimd';

export interface AuthStore {
  put(kind: StoreKind, key: string, value: string, ttlMs: number): Promise<void>;
  get(kind: StoreKind, key: string): Promise<string | undefined>;
  /** Reads and removes at once: single-use entries (codes) cannot be taken twice. */
  take(kind: StoreKind, key: string): Promise<string | undefined>;
  delete(kind: StoreKind, key: string): Promise<void>;
}

/** The most entries of each kind one instance keeps; the oldest go first. */
export const STORE_LIMITS: Readonly<Record<StoreKind, number>> = {
  client: 10_000, pending: 10_000, code: 10_000, consent: 100_000, refresh: 200_000, family: 100_000, session: 100_000, cimd: 1_000,
};

export class MemoryAuthStore implements AuthStore {
  private readonly entries = new Map<StoreKind, Map<string, { value: string; expiresAt: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(kind: StoreKind, key: string, value: string, ttlMs: number): Promise<void> {
    const entries = this.kind(kind);
    entries.delete(key);
    entries.set(key, { value, expiresAt: this.now() + ttlMs });
    this.evict(kind, entries);
  }

  async get(kind: StoreKind, key: string): Promise<string | undefined> {
    const entry = this.kind(kind).get(key);
    if (!entry) { return undefined; }
    if (entry.expiresAt <= this.now()) {
      this.kind(kind).delete(key);
      return undefined;
    }
    return entry.value;
  }

  async take(kind: StoreKind, key: string): Promise<string | undefined> {
    // Removed before any await: a concurrent take finds nothing (codes are single use).
    const entries = this.kind(kind);
    const entry = entries.get(key);
    entries.delete(key);
    return entry && entry.expiresAt > this.now() ? entry.value : undefined;
  }

  async delete(kind: StoreKind, key: string): Promise<void> {
    this.kind(kind).delete(key);
  }

  /** Every stored value, for the test that no token is kept in the clear. */
  dump(): string[] {
    return [...this.entries.values()].flatMap(entries => [...entries].flatMap(([key, entry]) => [key, entry.value]));
  }

  private kind(kind: StoreKind): Map<string, { value: string; expiresAt: number }> {
    let entries = this.entries.get(kind);
    if (!entries) {
      entries = new Map();
      this.entries.set(kind, entries);
    }
    return entries;
  }

  /** Expired entries first, then the oldest, until the kind is within its bound. */
  private evict(kind: StoreKind, entries: Map<string, { value: string; expiresAt: number }>): void {
    if (entries.size <= STORE_LIMITS[kind]) { return; }
    const now = this.now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= now) { entries.delete(key); }
    }
    while (entries.size > STORE_LIMITS[kind]) {
      entries.delete(entries.keys().next().value as string);
    }
  }
}
