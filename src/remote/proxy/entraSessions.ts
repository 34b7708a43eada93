/**
 * Proxy mode's side towards Entra ID: the user signs in with the authorization-code flow (PKCE,
 * state, nonce; the server's confidential credential), asking only for what sign-in needs, and
 * the resulting MSAL token cache (the user's refresh token) is stored sealed, one per user. Tools
 * later get Graph and ARM tokens from it silently, so users are not asked again for weeks.
 */
import { CryptoProvider } from '@azure/msal-node';
import { ToolError } from '../../server/toolError';
import { TokenExchange } from '../delegatedTokenSource';
import { entraToolError } from '../entraErrors';
import { EntraApp, confidentialClient } from '../msalApplication';
import { AuthStore } from './authStore';
import { ProxyUser } from './issuedTokens';
import { SealedBox, digest } from './sealedBox';

/** Sign-in asks for nothing beyond signing in; each tool's scopes are asked for when it first runs. */
export const SIGN_IN_SCOPES = ['openid', 'profile', 'offline_access'];
export const SESSION_LIFETIME_MS = 90 * 24 * 3_600_000;
const SIGN_IN_AGAIN = 'Sign in to this server again from your MCP client (reconnect it, or sign out of it and back in)';

export interface SignInOptions {
  readonly app: EntraApp;
  /** The tenant users sign in to: the tenant id, or `organizations` when several are allowed. */
  readonly signInTenant: string;
  readonly allowedTenants: readonly string[];
  /** `<origin>/auth/callback`: the only redirect URI registered on the Entra app for this. */
  readonly redirectUri: string;
}

export class EntraSessions {
  private readonly crypto = new CryptoProvider();

  constructor(private readonly options: SignInOptions, private readonly store: AuthStore, private readonly box: SealedBox) {}

  /** A verifier and nonce for one sign-in (kept in the pending authorization) and the URL to send the browser to. */
  async beginSignIn(state: string): Promise<{ url: string; verifier: string; nonce: string }> {
    const { verifier, challenge } = await this.crypto.generatePkceCodes();
    const nonce = this.crypto.createNewGuid();
    const url = await confidentialClient(this.options.app, this.options.signInTenant).getAuthCodeUrl({
      scopes: SIGN_IN_SCOPES, redirectUri: this.options.redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256',
      state, nonce, responseMode: 'query', prompt: 'select_account',
    });
    return { url, verifier, nonce };
  }

  /** Redeems Entra's code, stores the user's session sealed, and says who signed in. */
  async completeSignIn(code: string, verifier: string, nonce: string): Promise<ProxyUser> {
    const client = confidentialClient(this.options.app, this.options.signInTenant);
    const result = await client.acquireTokenByCode({ code, redirectUri: this.options.redirectUri, scopes: SIGN_IN_SCOPES, codeVerifier: verifier, nonce });
    const claims = result.idTokenClaims as Record<string, unknown>;
    const user: ProxyUser = {
      oid: String(claims.oid ?? ''), tid: String(claims.tid ?? '').toLowerCase(),
      upn: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
      name: typeof claims.name === 'string' ? claims.name : undefined,
      roles: Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === 'string') : [],
    };
    if (!user.oid || !this.options.allowedTenants.includes(user.tid)) {
      throw new SignInRefused(`Accounts of tenant ${user.tid || '(none)'} may not use this server. Sign in with an account of your organization.`);
    }
    await this.save(user, client.getTokenCache().serialize());
    return user;
  }

  async hasSession(user: Pick<ProxyUser, 'oid' | 'tid'>): Promise<boolean> {
    return (await this.store.get('session', sessionKey(user))) !== undefined;
  }

  async drop(user: Pick<ProxyUser, 'oid' | 'tid'>): Promise<void> {
    await this.store.delete('session', sessionKey(user));
  }

  /** Tools' tokens, silently from the stored session; a dead session is dropped and the user told to sign in again. */
  readonly exchange: TokenExchange = async (call, scopes, claims) => {
    const user = call.caller;
    const cache = await this.load(user);
    if (!cache) {
      throw new ToolError('NotSignedIn', `Your sign-in to Entra ID has ended. ${SIGN_IN_AGAIN}.`);
    }
    const client = confidentialClient(this.options.app, user.tid);
    client.getTokenCache().deserialize(cache);
    const account = (await client.getTokenCache().getAllAccounts()).find(candidate => candidate.homeAccountId === `${user.oid}.${user.tid}`);
    if (!account) {
      await this.drop(user);
      throw new ToolError('NotSignedIn', `Your sign-in to Entra ID has ended. ${SIGN_IN_AGAIN}.`);
    }
    try {
      const result = await client.acquireTokenSilent({ account, scopes, ...(claims ? { claims, forceRefresh: true } : {}) });
      const updated = client.getTokenCache().serialize();
      if (updated !== cache) {
        await this.save(user, updated);
      }
      return { accessToken: result.accessToken, expiresOn: result.expiresOn?.getTime() ?? Date.now() + 3_600_000 };
    } catch (error) {
      const failure = entraToolError(error, { authorityHost: this.options.app.authorityHost, clientId: this.options.app.clientId, tenantId: user.tid, scopes, signInAgain: SIGN_IN_AGAIN });
      if (failure.code === 'NotSignedIn') {
        await this.drop(user);
      }
      throw failure;
    }
  };

  private async save(user: Pick<ProxyUser, 'oid' | 'tid'>, cache: string): Promise<void> {
    await this.store.put('session', sessionKey(user), this.box.seal(cache, 'session'), SESSION_LIFETIME_MS);
  }

  private async load(user: Pick<ProxyUser, 'oid' | 'tid'>): Promise<string | undefined> {
    const sealed = await this.store.get('session', sessionKey(user));
    return sealed ? this.box.open(sealed, 'session') : undefined;
  }
}

/** A sign-in Entra completed but this server refuses (a foreign tenant): shown to the user as a page. */
export class SignInRefused extends Error {}

function sessionKey(user: Pick<ProxyUser, 'oid' | 'tid'>): string {
  return digest(`${user.tid}:${user.oid}`);
}
