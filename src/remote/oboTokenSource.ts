/**
 * Entra mode's token source: the caller's own token is the assertion of an On-Behalf-Of
 * exchange (`acquireTokenOnBehalfOf`), sent to Entra ID and nowhere else.
 */
import { ToolError } from '../server/toolError';
import { DelegatedOptions, DelegatedTokenSource, TokenExchange } from './delegatedTokenSource';
import { entraToolError } from './entraErrors';
import { EntraApp, confidentialClient } from './msalApplication';

/** The server's app registration, and the token source's settings. */
export type OboOptions = EntraApp & Omit<DelegatedOptions, 'exchange'>;

export class OboTokenSource extends DelegatedTokenSource {
  constructor(options: OboOptions) {
    super({ ...options, exchange: onBehalfOf(options) });
  }
}

function onBehalfOf(app: EntraApp & { now?: () => number }): TokenExchange {
  return async (call, scopes, claims) => {
    if (!call.assertion) {
      throw new ToolError('NotSignedIn', 'This request carries no token to exchange On-Behalf-Of the caller.');
    }
    try {
      // One application per exchange: MSAL's own cache would otherwise hold every user's tokens
      // in one unbounded store; ours is per user, bounded, and the only one read.
      const result = await confidentialClient(app, call.caller.tid).acquireTokenOnBehalfOf({
        oboAssertion: call.assertion, scopes, skipCache: true, ...(claims ? { claims } : {}),
      });
      if (!result?.accessToken) {
        throw new ToolError('TokenUnavailable', 'Entra ID returned no token for this tool. Try again; if it persists, tell the server\'s operator.');
      }
      return { accessToken: result.accessToken, expiresOn: result.expiresOn?.getTime() ?? (app.now ?? Date.now)() + 3_600_000 };
    } catch (error) {
      throw entraToolError(error, {
        authorityHost: app.authorityHost, clientId: app.clientId, tenantId: call.caller.tid, scopes,
        signInAgain: 'Sign out of this server in your MCP client and sign in again',
      });
    }
  };
}
