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
  return SCOPE_PATTERN.test(scope) && !RESERVED_PREFIXES.some(prefix => scope.startsWith(prefix));
}

/** Sorted, de-duplicated scopes: the canonical form used for cache keys and comparisons. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map(scope => scope.trim()).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'en'));
}

/** Case-insensitive comparison, as Entra treats scope names. */
function scopeKey(scope: string): string {
  return scope.toLowerCase();
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
