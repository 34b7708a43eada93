/**
 * The authorization server of proxy mode, as the MCP SDK's OAuth handlers expect it
 * (`OAuthServerProvider`): the SDK checks the request shapes, the client, its redirect URI and
 * PKCE; this decides. /authorize shows the consent page for the client (the per-client consent
 * the spec requires of a proxy that uses one Entra app for every client), the approval sends the
 * user to Entra ID, the callback completes the client's flow with our own code, and /token issues
 * our short-lived access tokens and rotating refresh tokens.
 */
import { Request, Response } from 'express';
import { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidGrantError, InvalidTargetError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { AuditLog } from '../audit';
import { toAuthInfo } from '../callerContext';
import { ClientRegistry } from './clientRegistry';
import { consentPageHeaders, renderConsentPage, renderMessagePage } from './consentPage';
import { CSRF_COOKIE, ConsentCsrf, csrfCookieHeader, readCookie } from './csrf';
import { EntraSessions, SignInRefused } from './entraSessions';
import { Grant, Grants, PendingAuthorization } from './grants';
import { ACCESS_TOKEN_LIFETIME_SECONDS, IssuedTokens, ProxyUser } from './issuedTokens';
import { SealedBox } from './sealedBox';

export interface ProxyProviderOptions {
  readonly registry: ClientRegistry;
  readonly grants: Grants;
  readonly sessions: EntraSessions;
  readonly tokens: IssuedTokens;
  readonly box: SealedBox;
  readonly audit: AuditLog;
  /** The MCP endpoint: the only `resource` tokens are issued for. */
  readonly resource: URL;
  readonly authorityOrigin: string;
  /** The tools a client will be able to use, for the consent page. */
  readonly tools: ReadonlyArray<{ name: string; title: string; readOnly: boolean }>;
  readonly serverName: string;
  readonly secureCookies: boolean;
}

/** Browser cookie naming who signed in here before, so remembered consent can skip the page. */
const USER_COOKIE = 'entra_mcp_user';
const CONSENT_PATH = '/authorize/consent';

export class ProxyProvider implements OAuthServerProvider {
  private readonly csrf: ConsentCsrf;

  constructor(private readonly options: ProxyProviderOptions) {
    this.csrf = new ConsentCsrf(options.box.derive('consent-csrf'));
  }

  get clientsStore(): OAuthRegisteredClientsStore {
    return this.options.registry;
  }

  /** After the SDK checked client, redirect URI and PKCE: the consent page, unless this browser's user already consented. */
  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    if (params.resource && params.resource.href !== this.options.resource.href) {
      throw new InvalidTargetError(`This server issues tokens only for ${this.options.resource.href}.`);
    }
    const pending: PendingAuthorization = {
      clientId: client.client_id, redirectUri: params.redirectUri, codeChallenge: params.codeChallenge, clientState: params.state,
      scopes: params.scopes ?? [], resource: this.options.resource.href,
    };
    const pendingId = await this.options.grants.beginAuthorization(pending);
    const returning = this.rememberedUser(res.req);
    if (returning && await this.options.grants.hasConsent(returning, client.client_id)) {
      return this.sendToEntra(res, pendingId, { ...pending, rememberedFor: returning });
    }
    this.showConsent(res, client, pendingId, params.redirectUri);
  }

  /** POST /authorize/consent: the user's decision, checked against the CSRF cookie of the page they saw. */
  readonly decide = async (req: Request, res: Response): Promise<void> => {
    const pendingId = String(req.body?.pending ?? '');
    const pending = pendingId ? await this.options.grants.pendingAuthorization(pendingId) : undefined;
    if (!pending) {
      return this.message(res, 400, 'This sign-in request has expired', 'Start again from your MCP client.');
    }
    if (!this.csrf.verify(pendingId, readCookie(req.headers.cookie, CSRF_COOKIE), String(req.body?.csrf_token ?? ''))) {
      this.options.audit.refusal({ requestId: String(res.getHeader('X-Request-Id') ?? ''), status: 403, claim: 'csrf', reason: 'consent form without its CSRF proof' });
      return this.message(res, 403, 'This approval cannot be accepted', 'The page was not the one this server showed you. Start again from your MCP client.');
    }
    if (req.body?.decision !== 'allow') {
      await this.options.grants.completeAuthorization(pendingId);
      return redirectToClient(res, this.options.tokens.issuer, pending, { error: 'access_denied', error_description: 'The user denied access.' });
    }
    await this.sendToEntra(res, pendingId, pending);
  };

  /** GET /auth/callback: Entra's answer; completes the client's flow with our own code. */
  readonly callback = async (req: Request, res: Response): Promise<void> => {
    const state = String(req.query.state ?? '');
    const pending = state ? await this.options.grants.completeAuthorization(state) : undefined;
    if (!pending?.entra) {
      return this.message(res, 400, 'This sign-in request has expired or was already used', 'Start again from your MCP client.');
    }
    if (typeof req.query.error === 'string') {
      return redirectToClient(res, this.options.tokens.issuer, pending, { error: 'access_denied', error_description: 'Sign-in at Entra ID did not complete.' });
    }
    let user: ProxyUser;
    try {
      user = await this.options.sessions.completeSignIn(String(req.query.code ?? ''), pending.entra.verifier, pending.entra.nonce);
    } catch (error) {
      const text = error instanceof SignInRefused ? error.message : 'Entra ID did not accept the sign-in. Start again from your MCP client.';
      return this.message(res, 403, 'Sign-in refused', text);
    }
    // Consent remembered for this browser's user holds for that user only: another account picked at
    // Entra's account chooser has not seen the page for this client.
    if (pending.rememberedFor && (pending.rememberedFor.oid !== user.oid || pending.rememberedFor.tid !== user.tid) &&
      !await this.options.grants.hasConsent(user, pending.clientId)) {
      res.append('Set-Cookie', cookie(USER_COOKIE, '', this.options.secureCookies, 0));
      return this.message(res, 403, 'Approval needed', 'You signed in with another account than the one that approved this application. ' +
        'Start again from your MCP client to review and approve it for this account.');
    }
    await this.options.grants.rememberConsent(user, pending.clientId);
    const code = await this.options.grants.issueCode({ clientId: pending.clientId, redirectUri: pending.redirectUri, codeChallenge: pending.codeChallenge, user, scopes: pending.scopes, resource: pending.resource });
    res.append('Set-Cookie', cookie(USER_COOKIE, this.options.box.seal(JSON.stringify({ oid: user.oid, tid: user.tid }), USER_COOKIE), this.options.secureCookies, 90 * 24 * 3600));
    this.options.audit.event('signed_in', { oid: user.oid, tid: user.tid, upn: user.upn, clientId: pending.clientId });
    redirectToClient(res, this.options.tokens.issuer, pending, { code });
  };

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string): Promise<string> {
    const grant = await this.options.grants.peekCode(authorizationCode);
    if (!grant || grant.clientId !== client.client_id) {
      throw new InvalidGrantError('The authorization code is unknown, expired or was already used.');
    }
    return grant.codeChallenge;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string, _verifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    const grant = await this.options.grants.redeemCode(authorizationCode);
    if (!grant || grant.clientId !== client.client_id) {
      throw new InvalidGrantError('The authorization code is unknown, expired or was already used.');
    }
    if (redirectUri !== undefined && redirectUri !== grant.redirectUri) {
      throw new InvalidGrantError('redirect_uri does not match the one of the authorization request.');
    }
    this.checkResource(resource);
    return this.tokensFor(grant);
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, _scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    this.checkResource(resource);
    const rotated = await this.options.grants.rotateRefreshToken(refreshToken);
    if ('refused' in rotated) {
      if (rotated.refused === 'reused') {
        this.options.audit.refusal({ requestId: '', status: 400, claim: 'refresh_token', reason: 'a used refresh token was presented again: its family is revoked' });
      }
      throw new InvalidGrantError(rotated.refused === 'unknown' ? 'The refresh token is unknown or expired. Sign in again.' : 'The refresh token was revoked. Sign in again.');
    }
    const { grant } = rotated;
    if (grant.clientId !== client.client_id) {
      throw new InvalidGrantError('The refresh token was issued to another client.');
    }
    if (!await this.options.sessions.hasSession(grant.user)) {
      throw new InvalidGrantError('Your sign-in to Entra ID has ended. Sign in again.');
    }
    return this.tokensFor(grant, grant.familyId);
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const caller = await this.options.tokens.validate(token);
    return toAuthInfo(caller, token, caller.clientApp ?? '', this.options.resource);
  }

  /** RFC 7009: revoking a refresh token ends its family and withdraws the user's consent for that client. */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const grant = await this.options.grants.revokeRefreshToken(request.token);
    if (grant && grant.clientId === client.client_id) {
      await this.options.grants.forgetConsent(grant.user, client.client_id);
      this.options.audit.event('consent_revoked', { oid: grant.user.oid, tid: grant.user.tid, clientId: client.client_id });
    }
  }

  private async tokensFor(grant: Grant, familyId?: string): Promise<OAuthTokens> {
    this.options.audit.event('token_issued', {
      oid: grant.user.oid, tid: grant.user.tid, clientId: grant.clientId, grant: familyId ? 'refresh_token' : 'authorization_code',
    });
    return {
      access_token: await this.options.tokens.issue(grant.user, grant.clientId),
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
      refresh_token: await this.options.grants.issueRefreshToken({ clientId: grant.clientId, user: grant.user, scopes: grant.scopes, resource: grant.resource }, familyId),
      scope: this.options.tokens.scope,
    };
  }

  private checkResource(resource: URL | undefined): void {
    if (resource && resource.href !== this.options.resource.href) {
      throw new InvalidTargetError(`This server issues tokens only for ${this.options.resource.href}.`);
    }
  }

  private async sendToEntra(res: Response, pendingId: string, pending: PendingAuthorization): Promise<void> {
    const { url, verifier, nonce } = await this.options.sessions.beginSignIn(pendingId);
    await this.options.grants.approve(pendingId, pending, { verifier, nonce });
    res.redirect(302, url);
  }

  private showConsent(res: Response, client: OAuthClientInformationFull, pendingId: string, redirectUri: string): void {
    const { cookieValue, token } = this.csrf.issue(pendingId);
    res.setHeader('Set-Cookie', csrfCookieHeader(cookieValue, this.options.secureCookies, CONSENT_PATH));
    res.set(consentPageHeaders(this.options.authorityOrigin, redirectUri));
    res.status(200).send(renderConsentPage({
      serverName: this.options.serverName, clientName: client.client_name ?? client.client_id, clientUri: client.client_uri, logoUri: client.logo_uri,
      redirectHost: new URL(redirectUri).host, tools: this.options.tools, pendingId, csrfToken: token, actionPath: CONSENT_PATH,
    }));
  }

  private message(res: Response, status: number, title: string, text: string): void {
    res.set(consentPageHeaders(this.options.authorityOrigin));
    res.status(status).send(renderMessagePage(title, text));
  }

  private rememberedUser(req: Request): Pick<ProxyUser, 'oid' | 'tid'> | undefined {
    const sealed = readCookie(req.headers.cookie, USER_COOKIE);
    const text = sealed ? this.options.box.open(sealed, USER_COOKIE) : undefined;
    return text ? JSON.parse(text) as Pick<ProxyUser, 'oid' | 'tid'> : undefined;
  }
}

/** Back to the client's exact redirect URI, with its state and our issuer (RFC 9207). */
function redirectToClient(res: Response, issuer: string, pending: PendingAuthorization, params: Record<string, string>): void {
  const target = new URL(pending.redirectUri);
  for (const [name, value] of Object.entries(params)) { target.searchParams.set(name, value); }
  if (pending.clientState !== undefined) { target.searchParams.set('state', pending.clientState); }
  target.searchParams.set('iss', issuer);
  res.redirect(302, target.href);
}

function cookie(name: string, value: string, secure: boolean, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/authorize; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

