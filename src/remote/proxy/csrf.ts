/**
 * CSRF protection of the consent form: a double-submit cookie bound to one pending authorization.
 * The cookie holds a random value; the form's hidden `csrf_token` is HMAC(secret, pendingId + cookie).
 * A forged POST from another site fails twice over: the SameSite=Strict cookie is not sent with it,
 * and without the server's secret nobody can mint a token that matches a cookie and a pending id
 * (so neither a leaked token for another request nor an attacker's own cookie/token pair helps).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'entra_mcp_csrf';

/** The cookie lives as long as a pending authorization (10 min): a stale page is refused anyway. */
const COOKIE_MAX_AGE_SECONDS = 600;
const SECRET_BYTES = 32;
const COOKIE_VALUE_BYTES = 32;
/** base64url of 32 bytes (random cookie value, or an HMAC-SHA256): exactly 43 characters. */
const BASE64URL_OF_32_BYTES = /^[A-Za-z0-9_-]{43}$/;
/** A token made for this purpose can never be replayed as an HMAC of the same secret made for another one. */
const PURPOSE = 'entra-mcp consent csrf v1';

export class ConsentCsrf {
  private readonly secret: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < SECRET_BYTES) {
      throw new Error(`The consent CSRF secret must be at least ${SECRET_BYTES} bytes.`);
    }
    this.secret = Buffer.from(secret);
  }

  issue(pendingId: string): { cookieValue: string; token: string } {
    if (pendingId.length === 0) {
      throw new Error('A CSRF token needs the id of a pending authorization.');
    }
    const cookieValue = randomBytes(COOKIE_VALUE_BYTES).toString('base64url');
    return { cookieValue, token: this.mac(pendingId, cookieValue).toString('base64url') };
  }

  /** False on anything missing or malformed; the comparison itself takes the same time whatever differs. */
  verify(pendingId: string, cookieValue: string | undefined, token: string | undefined): boolean {
    if (typeof pendingId !== 'string' || pendingId.length === 0 || !isWellFormed(cookieValue) || !isWellFormed(token)) {
      return false;
    }
    const expected = this.mac(pendingId, cookieValue);
    const presented = Buffer.from(token, 'base64url');
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  /** Length-prefixed fields: ("ab", "c") and ("a", "bc") must not give the same MAC. */
  private mac(pendingId: string, cookieValue: string): Buffer {
    const hmac = createHmac('sha256', this.secret);
    for (const field of [PURPOSE, pendingId, cookieValue]) {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      hmac.update(length).update(bytes);
    }
    return hmac.digest();
  }
}

function isWellFormed(value: string | undefined): value is string {
  return typeof value === 'string' && BASE64URL_OF_32_BYTES.test(value);
}

/**
 * SameSite=Strict is safe here and the strictest choice: the cookie is set on the GET of the consent
 * page (a cookie may be *set* by a cross-site navigation's response) and only needs to come back on
 * the POST from that very page, which is same-site. HttpOnly: no script ever needs it.
 */
export function csrfCookieHeader(value: string, secure: boolean, path: string): string {
  if (!isWellFormed(value)) {
    throw new Error('A CSRF cookie value must be one that ConsentCsrf.issue made.');
  }
  if (!path.startsWith('/') || /[;,\s\x00-\x1f\x7f]/.test(path)) {
    throw new Error('A cookie path must start with "/" and hold no separators or control characters.');
  }
  const attributes = [`${CSRF_COOKIE}=${value}`, `Path=${path}`, `Max-Age=${COOKIE_MAX_AGE_SECONDS}`, 'HttpOnly', 'SameSite=Strict'];
  if (secure) {
    attributes.push('Secure');
  }
  return attributes.join('; ');
}

/** The value of cookie `name` in a Cookie request header; the first one wins, as browsers send the most specific path first. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (typeof header !== 'string') {
    return undefined;
  }
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) {
      return pair.slice(separator + 1).trim();
    }
  }
  return undefined;
}
