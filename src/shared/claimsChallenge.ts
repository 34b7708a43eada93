/**
 * Screens a claims challenge (`WWW-Authenticate: Bearer … error="insufficient_claims",
 * claims="…"`) before any of it reaches VS Code's provider.
 *
 * VS Code's Microsoft provider reads two parameters of a Bearer challenge: `scope`, which it uses
 * *instead of* the caller's scopes (and from which it would take `VSCODE_TENANT:` and
 * `VSCODE_CLIENT_ID:` pseudo-scopes), and `claims` (base64, else JSON). Forwarding a challenge
 * whole would let whoever wrote it choose the permissions, tenant and app of a token served to a
 * tool. So the challenge is parsed strictly, only a well-formed claims request is kept, and the
 * provider is given a challenge rebuilt from it alone, with the tool's scopes as fallback.
 */
import { isPseudoScope, scopeKey } from './scopes';

/** Longest claims value kept (encoded). Entra's claims requests are a few hundred bytes. */
export const MAX_CLAIMS_CHARS = 4096;
const MAX_CLAIMS_DEPTH = 6;

/** Parameters Microsoft's challenges carry for information; VS Code's provider does not read them. */
const INFORMATIONAL_PARAMS = new Set(['realm', 'authorization_uri', 'client_id', 'error', 'error_description', 'error_uri', 'resource_metadata']);

export type ChallengeScreening =
  /** `challenge` is what to pass to the provider: the validated claims and nothing else. */
  | { readonly kind: 'claims'; readonly challenge: string }
  /** The challenge tried to choose permissions, tenant or app: refuse the request. */
  | { readonly kind: 'widening'; readonly reason: string }
  /** Not a usable claims challenge. */
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * Screens a challenge for a request with the given scopes (as asked of the provider, before the
 * pseudo-scopes). Reasons never quote the challenge: it may carry claims values.
 */
export function screenClaimsChallenge(header: string, requestedScopes: readonly string[]): ChallengeScreening {
  const params = parseBearerChallenge(header);
  if (!params) {
    return { kind: 'malformed', reason: 'not a single well-formed Bearer challenge' };
  }
  const scope = params.get('scope');
  if (scope !== undefined) {
    const requested = new Set(requestedScopes.map(scopeKey));
    const extra = scope.split(/\s+/).filter(Boolean).filter(entry => isPseudoScope(entry) || !requested.has(scopeKey(entry)));
    if (extra.length > 0) {
      return { kind: 'widening', reason: `the challenge named ${extra.some(isPseudoScope) ? 'a tenant or client id' : 'other scopes'}: ${extra.map(describeScope).join(' ')}` };
    }
  }
  const unknown = [...params.keys()].filter(name => name !== 'scope' && name !== 'claims' && !INFORMATIONAL_PARAMS.has(name));
  if (unknown.length > 0) {
    return { kind: 'malformed', reason: `unexpected challenge parameter ${unknown.map(name => name.slice(0, 32)).join(', ')}` };
  }
  const claims = params.get('claims');
  const canonical = claims === undefined ? undefined : validateClaims(claims);
  if (!canonical) {
    return { kind: 'malformed', reason: claims === undefined ? 'the challenge carries no claims' : 'the claims are not a well-formed claims request' };
  }
  // Base64, so VS Code's own challenge parser (which splits on commas and strips quotes) reads it whole.
  return { kind: 'claims', challenge: `Bearer claims="${Buffer.from(canonical, 'utf8').toString('base64')}"` };
}

/** A scope named in an audit line: pseudo-scopes lose their value, other text is bounded. */
function describeScope(scope: string): string {
  if (isPseudoScope(scope)) {
    return scope.slice(0, scope.indexOf(':') + 1) + '…';
  }
  return /^[A-Za-z0-9._:/-]{1,128}$/.test(scope) ? scope : '(malformed scope)';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * The auth-params of a `Bearer` challenge (RFC 9110 §11.6.1), names lower-cased. Undefined
 * unless the whole header is exactly one Bearer challenge: parameters as `name=token` or
 * `name="quoted string"`, comma-separated, each name once.
 */
export function parseBearerChallenge(header: string): Map<string, string> | undefined {
  const match = /^[ \t]*bearer(?:[ \t]+|$)/i.exec(header);
  if (!match) {
    return undefined;
  }
  const params = new Map<string, string>();
  let rest = header.slice(match[0].length);
  while (rest.trim()) {
    const param = /^[ \t]*([^\s=,"]+)[ \t]*=[ \t]*/.exec(rest);
    if (!param || !TOKEN.test(param[1])) {
      return undefined;
    }
    const name = param[1].toLowerCase();
    rest = rest.slice(param[0].length);
    const value = readValue(rest);
    if (!value || params.has(name)) {
      return undefined;
    }
    params.set(name, value.value);
    rest = value.rest.replace(/^[ \t]*/, '');
    if (rest && !rest.startsWith(',')) {
      return undefined;
    }
    rest = rest.replace(/^,[ \t]*/, '');
  }
  return params;
}

function readValue(text: string): { value: string; rest: string } | undefined {
  if (!text.startsWith('"')) {
    const token = /^[^\s,"]+/.exec(text)?.[0];
    return token && TOKEN68.test(token) ? { value: token, rest: text.slice(token.length) } : undefined;
  }
  let value = '';
  for (let index = 1; index < text.length; index++) {
    const char = text[index];
    if (char === '"') {
      return { value, rest: text.slice(index + 1) };
    }
    if (char === '\\') {
      index++;
      if (index >= text.length) { return undefined; }
    }
    const code = text.charCodeAt(index);
    if (code < 0x20 && code !== 0x09 || code === 0x7f) {
      return undefined;
    }
    value += text[index];
  }
  return undefined;
}

/**
 * A claims request (OpenID Connect Core §5.5: an object whose members are `access_token`,
 * `id_token` or `userinfo`, each an object), given as base64/base64url or as JSON, as VS Code's
 * provider accepts it. Returns it re-serialized, or undefined if it is anything else.
 */
export function validateClaims(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_CLAIMS_CHARS) {
    return undefined;
  }
  const text = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? decodeBase64Utf8(value) : value;
  if (text === undefined) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || depth(parsed) > MAX_CLAIMS_DEPTH) {
    return undefined;
  }
  const members = Object.entries(parsed);
  if (!members.every(([name, request]) => ['access_token', 'id_token', 'userinfo'].includes(name) && isPlainObject(request))) {
    return undefined;
  }
  return JSON.stringify(parsed);
}

function decodeBase64Utf8(value: string): string | undefined {
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // A valid encoding of valid UTF-8 round-trips; anything else is not base64 text.
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) {
    return 0;
  }
  return 1 + Math.max(0, ...Object.values(value).map(depth));
}
