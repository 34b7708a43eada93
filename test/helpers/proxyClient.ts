/**
 * An MCP client's side of proxy mode for tests: the SDK's OAuth client state kept in memory, and
 * a browser without a screen that follows the sign-in through the consent page and Entra ID.
 */
import * as assert from 'node:assert/strict';
import { OAuthClientProvider, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { recordVisible, rememberCredential } from './leakWatch';

export const CLIENT_REDIRECT = 'http://127.0.0.1:53682/callback';

/** An MCP client's OAuth state, kept in memory as a CLI client would keep it on disk. */
export class TestClientProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  constructor(readonly name = 'Test MCP client', readonly redirectUrl: string = CLIENT_REDIRECT) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.client; }
  saveClientInformation(client: OAuthClientInformationMixed) { this.client = client; }
  tokens() { return this.saved; }
  saveTokens(tokens: OAuthTokens) {
    rememberCredential(tokens.access_token);
    if (tokens.refresh_token) { rememberCredential(tokens.refresh_token); }
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) { this.authorizationUrl = url; }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

/** The cookies our server set in this headless "browser" (the fake Entra sets none). */
export const jar = new Map<string, string>();

function keepCookies(response: Response): void {
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const [name, value] = pair.split('=');
    jar.set(name, value);
  }
}

export function cookieHeader(): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** A browser without a screen: follows the sign-in through consent and Entra, returns the client's redirect. */
export async function browse(url: URL, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const page = await fetch(url, { redirect: 'manual', headers: { Cookie: cookieHeader() } });
  keepCookies(page);
  let next: URL;
  if (page.status === 200) {
    const html = await page.text();
    recordVisible('consent page', html);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
    const approval = await fetch(new URL('/authorize/consent', url), {
      method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(), Origin: url.origin },
      body: new URLSearchParams({ pending: field('pending'), csrf_token: field('csrf_token'), decision }),
    });
    assert.equal(approval.status, 302, await approval.text());
    next = new URL(approval.headers.get('location') as string);
  } else {
    assert.equal(page.status, 302, await page.text());
    next = new URL(page.headers.get('location') as string);
  }
  // Through Entra (which signs the test user in at once) and back through /auth/callback.
  for (let hop = 0; hop < 4 && !next.href.startsWith(CLIENT_REDIRECT); hop++) {
    const response = await fetch(next, { redirect: 'manual', headers: next.origin === url.origin ? { Cookie: cookieHeader() } : {} });
    keepCookies(response);
    assert.equal(response.status, 302, `${next.pathname}: ${await response.text()}`);
    next = new URL(response.headers.get('location') as string, next);
  }
  return next;
}

/** The whole sign-in as a client runs it; resolves with the provider holding tokens. */
export async function signIn(remote: { url: string }, provider = new TestClientProvider()): Promise<TestClientProvider> {
  assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
  const redirect = await browse(provider.authorizationUrl as URL);
  const code = redirect.searchParams.get('code') as string;
  assert.ok(code, redirect.href);
  assert.equal(redirect.searchParams.get('iss'), new URL(remote.url).origin);
  assert.equal(await auth(provider, { serverUrl: remote.url, authorizationCode: code }), 'AUTHORIZED');
  return provider;
}

export async function tokenRequest(remote: { url: string }, body: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(new URL('/token', remote.url), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  return { status: response.status, body: await response.json() as Record<string, string> };
}

