/** Entra's refusals (through msal-node) as tool errors the user or their administrator can act on; never the raw response. */
import { AuthError } from '@azure/msal-node';
import { ToolError } from '../server/toolError';

export interface ErrorContext {
  readonly authorityHost: string;
  readonly clientId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
  /** What to do to sign in again, in this mode's words. */
  readonly signInAgain: string;
}

export function entraToolError(error: unknown, context: ErrorContext): ToolError {
  if (error instanceof ToolError) {
    return error;
  }
  const text = error instanceof AuthError ? `${error.errorCode} ${error.subError} ${error.errorMessage}` : String((error as Error)?.message ?? error);
  const code = /AADSTS(\d+)/.exec(text)?.[1];
  if (code === '65001' || /consent_required/.test(text)) {
    return new ToolError('ScopeNotAllowed', `Your organization has not consented to this server using ${context.scopes.join(', ')} on your behalf (AADSTS65001). ` +
      `An administrator can grant consent at ${context.authorityHost}/${context.tenantId}/adminconsent?client_id=${context.clientId}`);
  }
  if (/interaction_required|insufficient_claims|AADSTS(50076|50079|50158|50072|53003)/.test(text)) {
    return new ToolError('NotSignedIn', 'Entra ID needs you to sign in again for this (multi-factor authentication or a Conditional Access ' +
      `policy). ${context.signInAgain}, then retry.`);
  }
  if (code === '500133' || code === '50013' || code === '50173' || code === '700082' || /invalid_grant|no_tokens_found|bad_token/.test(text)) {
    return new ToolError('NotSignedIn', `Your sign-in to this server is no longer accepted by Entra ID (expired or revoked). ${context.signInAgain}.`);
  }
  if (/invalid_client|AADSTS(7000215|700016|700027|7000222|70021)/.test(text)) {
    return new ToolError('TokenUnavailable', `The server's own credential was refused by Entra ID${code ? ` (AADSTS${code})` : ''}. ` +
      'Tell the server\'s operator: its ENTRA_MCP_CLIENT_* credential or federated credential needs fixing.');
  }
  if (error instanceof AuthError && error.errorCode !== 'post_request_failed' && !/network|timeout|fetch/i.test(text)) {
    return new ToolError('TokenUnavailable', `Entra ID refused a token for this tool${code ? ` (AADSTS${code})` : ''}. Try again; if it persists, tell the server's operator.`);
  }
  return new ToolError('NetworkError', 'Entra ID could not be reached to get a token for this tool. Try again in a moment.');
}
