/**
 * Reads claims from an access token without verifying it: the token came from VS Code's
 * authentication provider, and we only need its expiry and tenant. Never log the token.
 */
export interface AccessTokenClaims {
  exp?: number;
  tid?: string;
  scp?: string;
  upn?: string;
}

export function readTokenClaims(token: string): AccessTokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) {
    return undefined;
  }
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? claims as AccessTokenClaims : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Expiry of a token in ms since the epoch. Opaque tokens (e.g. some personal-account tokens)
 * carry no readable `exp`: we assume the shortest lifetime Entra issues, so the cache
 * refreshes early rather than serving an expired token.
 */
export const OPAQUE_TOKEN_LIFETIME_MS = 10 * 60_000;

export function tokenExpiry(token: string, now: number): number {
  const exp = readTokenClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : now + OPAQUE_TOKEN_LIFETIME_MS;
}
