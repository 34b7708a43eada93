/**
 * The authorization server's grants, each kept sealed (or hashed) in the store with a bounded
 * lifetime: pending authorizations (10 min), authorization codes (60 s, single use), consents
 * (per user and client), and rotating refresh tokens grouped in families, where presenting a
 * refresh token a second time revokes the whole family (it was stolen, or the client is broken).
 */
import { randomBytes } from 'node:crypto';
import { AuthStore } from './authStore';
import { ProxyUser } from './issuedTokens';
import { SealedBox, digest } from './sealedBox';

export const PENDING_LIFETIME_MS = 10 * 60_000;
export const CODE_LIFETIME_MS = 60_000;
export const CONSENT_LIFETIME_MS = 90 * 24 * 3_600_000;
/** A refresh token unused this long is dead; a family (one sign-in) lives at most FAMILY_LIFETIME_MS. */
export const REFRESH_IDLE_MS = 30 * 24 * 3_600_000;
export const FAMILY_LIFETIME_MS = 90 * 24 * 3_600_000;

/** An authorization request between /authorize and the end of the Entra sign-in. */
export interface PendingAuthorization {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly clientState?: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  /** Set once the user approved: the PKCE verifier and nonce of the sign-in at Entra. */
  readonly entra?: { readonly verifier: string; readonly nonce: string };
  /** Approved not on the page but by the consent remembered for this browser's user: only that user may complete it. */
  readonly rememberedFor?: { readonly oid: string; readonly tid: string };
}

/** What a code or a refresh token stands for. */
export interface Grant {
  readonly clientId: string;
  readonly user: ProxyUser;
  readonly scopes: readonly string[];
  readonly resource: string;
}

export interface CodeGrant extends Grant {
  readonly redirectUri: string;
  readonly codeChallenge: string;
}

interface RefreshRecord extends Grant {
  readonly familyId: string;
}

/** A fresh random secret: 256 bits, URL-safe. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export class Grants {
  constructor(private readonly store: AuthStore, private readonly box: SealedBox) {}

  async beginAuthorization(pending: PendingAuthorization): Promise<string> {
    const id = newSecret();
    await this.putSealed('pending', id, pending, PENDING_LIFETIME_MS);
    return id;
  }

  async pendingAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    return this.getSealed<PendingAuthorization>('pending', id);
  }

  async approve(id: string, pending: PendingAuthorization, entra: { verifier: string; nonce: string }): Promise<void> {
    await this.putSealed('pending', id, { ...pending, entra }, PENDING_LIFETIME_MS);
  }

  /** The pending authorization, used up: a callback can complete it once. */
  async completeAuthorization(id: string): Promise<PendingAuthorization | undefined> {
    const sealed = await this.store.take('pending', digest(id));
    return sealed ? this.open<PendingAuthorization>('pending', sealed) : undefined;
  }

  async issueCode(grant: CodeGrant): Promise<string> {
    const code = newSecret();
    await this.putSealed('code', code, grant, CODE_LIFETIME_MS);
    return code;
  }

  /** Reads a code without using it up (the token endpoint checks PKCE first). */
  async peekCode(code: string): Promise<CodeGrant | undefined> {
    return this.getSealed<CodeGrant>('code', code);
  }

  async redeemCode(code: string): Promise<CodeGrant | undefined> {
    const sealed = await this.store.take('code', digest(code));
    return sealed ? this.open<CodeGrant>('code', sealed) : undefined;
  }

  async rememberConsent(user: ProxyUser, clientId: string): Promise<void> {
    await this.store.put('consent', consentKey(user, clientId), '1', CONSENT_LIFETIME_MS);
  }

  async hasConsent(user: Pick<ProxyUser, 'oid' | 'tid'>, clientId: string): Promise<boolean> {
    return (await this.store.get('consent', consentKey(user, clientId))) === '1';
  }

  async forgetConsent(user: Pick<ProxyUser, 'oid' | 'tid'>, clientId: string): Promise<void> {
    await this.store.delete('consent', consentKey(user, clientId));
  }

  /** A refresh token opening a new family (a sign-in), or continuing `familyId` (a rotation). */
  async issueRefreshToken(grant: Grant, familyId?: string): Promise<string> {
    const family = familyId ?? newSecret();
    if (!familyId) {
      await this.store.put('family', family, 'active', FAMILY_LIFETIME_MS);
    }
    const token = newSecret();
    await this.putSealed('refresh', token, { ...grant, familyId: family }, REFRESH_IDLE_MS);
    return token;
  }

  /**
   * Uses up a refresh token. A token presented a second time revokes its family: whoever holds
   * the newer tokens (the thief or the client) must sign in again.
   */
  async rotateRefreshToken(token: string): Promise<{ grant: RefreshRecord } | { refused: 'unknown' | 'reused' | 'revoked' }> {
    const sealed = await this.store.take('refresh', digest(token));
    if (!sealed) {
      const reusedFamily = await this.store.get('refresh', `used:${digest(token)}`);
      if (reusedFamily) {
        await this.store.put('family', reusedFamily, 'revoked', FAMILY_LIFETIME_MS);
        return { refused: 'reused' };
      }
      return { refused: 'unknown' };
    }
    const grant = this.open<RefreshRecord>('refresh', sealed);
    if (!grant) {
      return { refused: 'unknown' };
    }
    await this.store.put('refresh', `used:${digest(token)}`, grant.familyId, FAMILY_LIFETIME_MS);
    if ((await this.store.get('family', grant.familyId)) !== 'active') {
      return { refused: 'revoked' };
    }
    return { grant };
  }

  /** Revokes the family of a refresh token (RFC 7009); returns its grant so consent can be withdrawn too. */
  async revokeRefreshToken(token: string): Promise<RefreshRecord | undefined> {
    const grant = await this.getSealed<RefreshRecord>('refresh', token);
    if (grant) {
      await this.store.put('family', grant.familyId, 'revoked', FAMILY_LIFETIME_MS);
      await this.store.delete('refresh', digest(token));
    }
    return grant;
  }

  private async putSealed(kind: 'pending' | 'code' | 'refresh', secret: string, value: unknown, ttlMs: number): Promise<void> {
    await this.store.put(kind, digest(secret), this.box.seal(JSON.stringify(value), kind), ttlMs);
  }

  private async getSealed<T>(kind: 'pending' | 'code' | 'refresh', secret: string): Promise<T | undefined> {
    const sealed = await this.store.get(kind, digest(secret));
    return sealed ? this.open<T>(kind, sealed) : undefined;
  }

  private open<T>(kind: string, sealed: string): T | undefined {
    const text = this.box.open(sealed, kind);
    return text === undefined ? undefined : JSON.parse(text) as T;
  }
}

function consentKey(user: Pick<ProxyUser, 'oid' | 'tid'>, clientId: string): string {
  return digest(`${user.tid}:${user.oid}:${clientId}`);
}
