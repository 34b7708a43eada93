/**
 * Scope rules shared by the broker (which enforces them) and the server (which declares them).
 * A scope is an Entra delegated permission: a short Graph name (`User.Read`) or a
 * resource-qualified one (`https://management.azure.com/user_impersonation`).
 */

/** Letters, digits and the punctuation real scopes use; no whitespace, quotes or control characters. */
const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,255}$/;

/** Scopes VS Code's providers may reject or that would widen what a token can do. */
const RESERVED_PREFIXES = ['VSCODE_CLIENT_ID:', 'VSCODE_TENANT:'];

export function isWellFormedScope(scope: string): boolean {
  return SCOPE_PATTERN.test(scope) && !isPseudoScope(scope);
}

/** VS Code's `VSCODE_TENANT:`/`VSCODE_CLIENT_ID:` pseudo-scopes, in any case. */
export function isPseudoScope(scope: string): boolean {
  return RESERVED_PREFIXES.some(prefix => scope.trim().toUpperCase().startsWith(prefix));
}

/**
 * Sorted scopes, de-duplicated case-insensitively (Entra treats `mail.read` and `Mail.Read` as
 * one permission): the first spelling seen is kept, so a request reaches the provider as the
 * tool declared it. Cache keys and comparisons go through `scopeKey`.
 */
export function normalizeScopes(scopes: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const scope of scopes.map(entry => entry.trim()).filter(Boolean)) {
    if (!byKey.has(scopeKey(scope))) { byKey.set(scopeKey(scope), scope); }
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, scope]) => scope);
}

/** Case-insensitive identity of a scope, as Entra compares scope names. */
export function scopeKey(scope: string): string {
  return scope.trim().toLowerCase();
}

/** Whether two scope lists name the same permissions, ignoring case, order and repeats. */
export function sameScopes(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a.map(scopeKey));
  const right = new Set(b.map(scopeKey));
  return left.size === right.size && [...left].every(scope => right.has(scope));
}

/** An allow-list of scopes: the tool catalogue's declarations plus what the user added explicitly. */
export class ScopeAllowList {
  private readonly allowed: Set<string>;

  constructor(scopes: Iterable<string>) {
    this.allowed = new Set([...scopes].map(scopeKey));
  }

  /** The requested scopes that are not allowed (empty when the request may proceed). */
  disallowed(requested: readonly string[]): string[] {
    return requested.filter(scope => !isWellFormedScope(scope) || !this.allowed.has(scopeKey(scope)));
  }
}
