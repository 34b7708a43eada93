/**
 * Proxy mode's sign-in in a real browser, through the real server: headless Chromium opens the
 * authorization URL that the MCP SDK's own OAuth client made, sees the consent page as the server
 * renders it, clicks Allow, passes through the fake Entra ID and /auth/callback, and lands on the
 * client's loopback redirect URI with a code that the SDK then redeems.
 *
 * Only a browser shows the two traps the spec names: `Origin: null` on the approval (under
 * Referrer-Policy no-referrer), which an Origin check would refuse, and a CSP `form-action` that
 * Chromium also applies to every redirect after the form's POST (to Entra, back to us, on to the
 * client). A fetch-driven test (remoteProxy.test.ts) cannot see either.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Request as BrowserRequest } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { recordVisible, rememberCredential } from '../helpers/leakWatch';
import { TestClientProvider } from '../helpers/proxyClient';
import { ALICE, BOB, RemoteHarness, proxyEnv, resultText, startRemoteHarness } from '../helpers/remoteHarness';

/** The same lookup and flags as the project's other Chromium runs (consentPage.test.ts, scripts/vscodeHost.mjs). */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(__dirname, '..', '..', 'screenshots');
/** Long enough for the whole redirect chain on a slow machine, short enough to fail well inside mocha's timeout. */
const ARRIVAL_TIMEOUT_MS = 15_000;

/** An MCP client's OAuth state, as a desktop client keeps it, with its own state parameter. */
class BrowserClientProvider extends TestClientProvider {
  /** The state of the latest authorization request, to compare with what comes back to the redirect URI. */
  sentState = '';

  constructor(redirectUrl: string, name: string) {
    super(name, redirectUrl);
  }

  state() {
    this.sentState = randomBytes(16).toString('base64url');
    return this.sentState;
  }
}

/** What reached the client's redirect URI. */
interface Arrival { code: string | null; state: string | null; iss: string | null; error: string | null }

interface ClientRedirectServer {
  /** http://127.0.0.1:<port>/callback: allowed by the server's default ENTRA_MCP_ALLOWED_REDIRECTS. */
  readonly redirectUri: string;
  readonly origin: string;
  /** The same listener as another site (`localhost` is not the same site as `127.0.0.1`): a web client's page. */
  startPageUrl(authorizationUrl: URL): string;
  readonly arrivals: Arrival[];
  stop(): Promise<void>;
}

/** The MCP client's loopback redirect listener (RFC 8252): records what arrives and answers "done". */
async function startClientRedirectServer(): Promise<ClientRedirectServer> {
  const arrivals: Arrival[] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/start') {
      // A web-based MCP client's own page, linking to the authorization URL as such clients open it.
      const target = (url.searchParams.get('to') ?? '').replace(/[&<>"']/g, character => `&#${character.charCodeAt(0)};`);
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html><title>web client</title><a href="${target}">Sign in</a>`);
      return;
    }
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    const code = url.searchParams.get('code');
    // Our server's authorization code is a credential: the leak scan must know it before anything could print it.
    if (code) { rememberCredential(code); }
    arrivals.push({ code, state: url.searchParams.get('state'), iss: url.searchParams.get('iss'), error: url.searchParams.get('error') });
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end('done');
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  const origin = `http://127.0.0.1:${address.port}`;
  return {
    redirectUri: `${origin}/callback`, origin, arrivals,
    startPageUrl: authorizationUrl => `http://localhost:${address.port}/start?${new URLSearchParams({ to: authorizationUrl.href })}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** A page that keeps every request Chromium made and every CSP violation it reported. */
interface WatchedPage { page: Page; requests: BrowserRequest[]; cspViolations: string[] }

async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const requests: BrowserRequest[] = [];
  const cspViolations: string[] = [];
  page.on('request', request => requests.push(request));
  page.on('console', message => {
    if (/Content Security Policy/i.test(message.text())) { cspViolations.push(message.text()); }
  });
  return { page, requests, cspViolations };
}

/** Where a URL points, without its query (which may hold a code): for assertion messages. */
function where(href: string): string {
  try {
    const url = new URL(href);
    return `${url.origin}${url.pathname}`;
  } catch {
    return href.slice(0, 80);
  }
}

describe('remote server: proxy sign-in in a real browser', function () {
  this.timeout(60_000);
  let browser: Browser;
  let remote: RemoteHarness;
  let clientSide: ClientRedirectServer;
  let serverOrigin: string;
  let entraOrigin: string;
  const contexts: BrowserContext[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`proxy sign-in: browser tests skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    remote = await startRemoteHarness({ env: proxyEnv() });
    remote.entra.addUser(ALICE, { roles: ['Tools.Read'] });
    remote.entra.addUser(BOB, { roles: ['Tools.Read'] });
    remote.entra.signInAs(ALICE);
    clientSide = await startClientRedirectServer();
    serverOrigin = new URL(remote.url).origin;
    entraOrigin = new URL(remote.entra.authorityHost).origin;
  });
  after(async () => {
    await browser?.close();
    await remote?.stop();
    await clientSide?.stop();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map(context => context.close()));
  });

  /** A fresh browser profile; the fake Entra's certificate is from the tests' CA, which Chromium does not know. */
  async function newContext(options: { javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
    contexts.push(context);
    return context;
  }

  /** The MCP client's first step: without tokens, auth() discovers, registers (once) and hands out the authorization URL. */
  async function startAuthorization(provider: BrowserClientProvider): Promise<URL> {
    provider.saved = undefined;
    assert.equal(await auth(provider, { serverUrl: remote.url }), 'REDIRECT');
    assert.ok(provider.authorizationUrl, 'the SDK produced an authorization URL');
    assert.equal(where(provider.authorizationUrl.href), `${serverOrigin}/authorize`);
    return provider.authorizationUrl;
  }

  /** Runs a step in the browser and waits for the browser to land on the client's redirect URI; says where it stopped if not. */
  async function untilAtClient(watched: WatchedPage, step: () => Promise<unknown>): Promise<Arrival> {
    const arrivalsBefore = clientSide.arrivals.length;
    try {
      await Promise.all([watched.page.waitForURL(url => url.origin === clientSide.origin, { timeout: ARRIVAL_TIMEOUT_MS }), step()]);
    } catch (error) {
      const title = await watched.page.title().catch(() => '');
      const heading = await watched.page.locator('h1').first().textContent({ timeout: 1_000 }).catch(() => '');
      throw new Error(`The browser never reached the client's redirect URI: it stopped at ${where(watched.page.url())} ` +
        `(title ${JSON.stringify(title)}, heading ${JSON.stringify(heading)}); CSP violations: ${JSON.stringify(watched.cspViolations)}; ` +
        `${(error as Error).message.split('\n')[0]}`);
    }
    assert.equal(await watched.page.locator('body').innerText(), 'done');
    assert.equal(clientSide.arrivals.length, arrivalsBefore + 1, 'exactly one arrival at the redirect URI');
    return clientSide.arrivals[clientSide.arrivals.length - 1];
  }

  /** The MCP client's last step: the arrival checked (its state, our issuer) and its code redeemed. */
  async function finishAuthorization(provider: BrowserClientProvider, arrival: Arrival): Promise<void> {
    assert.equal(arrival.error, null, `the client got error=${arrival.error}`);
    assert.ok(arrival.code, 'the client got a code');
    assert.equal(arrival.state, provider.sentState, 'the client got its own state back');
    assert.equal(arrival.iss, serverOrigin, 'RFC 9207: the issuer is named');
    assert.equal(await auth(provider, { serverUrl: remote.url, authorizationCode: arrival.code }), 'AUTHORIZED');
  }

  /** Consent page, Allow, Entra, callback, client: the first sign-in of a client in a browser profile. */
  async function signInWithConsent(watched: WatchedPage, provider: BrowserClientProvider): Promise<Arrival> {
    const consent = await watched.page.goto((await startAuthorization(provider)).href);
    assert.equal(consent?.status(), 200, 'the consent page');
    assert.equal(where(watched.page.url()), `${serverOrigin}/authorize`);
    return untilAtClient(watched, () => watched.page.getByRole('button', { name: 'Allow' }).click());
  }

  /** The browser's navigations, hop by hop (redirects included), named by site so a test can state the expected chain. */
  function navigations(watched: WatchedPage): string[] {
    const site = (origin: string) => ({ [serverOrigin]: 'server', [entraOrigin]: 'entra', [clientSide.origin]: 'client' })[origin] ?? origin;
    return watched.requests.filter(request => request.isNavigationRequest()).map(request => {
      const url = new URL(request.url());
      const path = url.origin === entraOrigin ? url.pathname.replace(/^\/[^/]+\//, '/<tenant>/') : url.pathname;
      return `${request.method()} ${site(url.origin)} ${path}`;
    });
  }

  async function myProfileUpn(provider: BrowserClientProvider): Promise<string | undefined> {
    const client = new Client({ name: 'proxy-browser-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(remote.url), { authProvider: provider }));
    try {
      const result = await client.callTool({ name: 'get_my_profile', arguments: {} }) as { structuredContent?: { userPrincipalName?: string } };
      recordVisible('proxy browser tool result', JSON.stringify(result));
      assert.ok(result.structuredContent, resultText(result));
      return result.structuredContent.userPrincipalName;
    } finally {
      await client.close();
    }
  }

  it('shows the server\'s consent page, and Allow leads through Entra back to the client, whose token then serves the user', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Browser Test Client');
    const watched = await watchedPage(await newContext());
    const consent = await watched.page.goto((await startAuthorization(provider)).href);
    assert.equal(consent?.status(), 200);
    recordVisible('consent page in Chromium', await watched.page.content());
    assert.equal(await watched.page.locator('h1').textContent(), 'Allow Browser Test Client to use Entra MCP tools as you?');
    const returnsTo = await watched.page.locator('dt', { hasText: 'Sign-in returns to' }).locator('xpath=following-sibling::dd[1]').innerText();
    assert.ok(returnsTo.startsWith(new URL(clientSide.redirectUri).host), `the redirect host is shown: ${returnsTo}`);
    assert.match(await watched.page.locator('main').innerText(), /get_my_profile/, 'the tools are listed');

    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'consent-server.png');
    await watched.page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 1024);
    assert.deepEqual([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');

    const arrival = await untilAtClient(watched, () => watched.page.getByRole('button', { name: 'Allow' }).click());
    assert.deepEqual(navigations(watched), [
      'GET server /authorize', 'POST server /authorize/consent', 'GET entra /<tenant>/oauth2/v2.0/authorize', 'GET server /auth/callback', 'GET client /callback',
    ], 'the whole chain, allowed by the consent page\'s form-action');
    assert.deepEqual(watched.cspViolations, []);
    await finishAuthorization(provider, arrival);
    assert.equal(await myProfileUpn(provider), ALICE.upn);
  });

  it('sends the user\'s approval with the page\'s own Origin, not "null"', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Origin Check Client');
    const watched = await watchedPage(await newContext());
    await finishAuthorization(provider, await signInWithConsent(watched, provider));
    const approval = watched.requests.find(request => request.method() === 'POST' && where(request.url()) === `${serverOrigin}/authorize/consent`);
    assert.ok(approval, 'Chromium posted the consent form');
    const headers = await approval.allHeaders();
    assert.notEqual(headers.origin, 'null', 'Chromium sent Origin: null, as it does under Referrer-Policy: no-referrer');
    assert.equal(headers.origin, serverOrigin);
    assert.equal((await approval.response())?.status(), 302, 'the server accepted the approval and sent the browser on to Entra');
  });

  it('skips the consent page on a second sign-in of the same client in the same browser, and still ends at the client', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Returning Client');
    const context = await newContext();
    await finishAuthorization(provider, await signInWithConsent(await watchedPage(context), provider));
    const clientId = provider.client?.client_id;

    const again = await watchedPage(context);
    const authorizationUrl = await startAuthorization(provider);
    assert.equal(provider.client?.client_id, clientId, 'the same registered client');
    const arrival = await untilAtClient(again, () => again.page.goto(authorizationUrl.href));
    assert.deepEqual(navigations(again), [
      'GET server /authorize', 'GET entra /<tenant>/oauth2/v2.0/authorize', 'GET server /auth/callback', 'GET client /callback',
    ], 'straight to Entra: consent was remembered');
    await finishAuthorization(provider, arrival);
    assert.equal(await myProfileUpn(provider), ALICE.upn);
  });

  it('completes the sign-in with JavaScript disabled', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'No Script Client');
    const watched = await watchedPage(await newContext({ javaScriptEnabled: false }));
    const arrival = await signInWithConsent(watched, provider);
    assert.deepEqual(navigations(watched), [
      'GET server /authorize', 'POST server /authorize/consent', 'GET entra /<tenant>/oauth2/v2.0/authorize', 'GET server /auth/callback', 'GET client /callback',
    ]);
    await finishAuthorization(provider, arrival);
    assert.equal(await myProfileUpn(provider), ALICE.upn);
  });

  it('sends Deny back to the client as access_denied with its state, and no code', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Denied Client');
    const watched = await watchedPage(await newContext());
    await watched.page.goto((await startAuthorization(provider)).href);
    const arrival = await untilAtClient(watched, () => watched.page.getByRole('button', { name: 'Deny' }).click());
    assert.deepEqual([arrival.error, arrival.code, arrival.state], ['access_denied', null, provider.sentState]);
    assert.deepEqual(navigations(watched), ['GET server /authorize', 'POST server /authorize/consent', 'GET client /callback'], 'never sent to Entra');
  });

  it('completes a sign-in that a web client\'s page on another site started (cross-site navigation to /authorize)', async () => {
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Web Client');
    const watched = await watchedPage(await newContext());
    await watched.page.goto(clientSide.startPageUrl(await startAuthorization(provider)));
    await Promise.all([watched.page.waitForURL(url => url.origin === serverOrigin), watched.page.getByRole('link', { name: 'Sign in' }).click()]);
    assert.equal(await watched.page.locator('h1').textContent(), 'Allow Web Client to use Entra MCP tools as you?');
    const arrival = await untilAtClient(watched, () => watched.page.getByRole('button', { name: 'Allow' }).click());
    await finishAuthorization(provider, arrival);
  });

  it('does not let one account\'s remembered consent skip the page for another account that signs in at Entra in the same browser', async () => {
    // A shared browser: Alice approved this client; later Bob picks his own account at Entra (prompt=select_account).
    const provider = new BrowserClientProvider(clientSide.redirectUri, 'Shared Browser Client');
    const context = await newContext();
    await finishAuthorization(provider, await signInWithConsent(await watchedPage(context), provider));
    remote.entra.signInAs(BOB);
    try {
      const again = await watchedPage(context);
      const arrivalsBefore = clientSide.arrivals.length;
      await again.page.goto((await startAuthorization(provider)).href);
      const codeForBob = clientSide.arrivals.slice(arrivalsBefore).find(arrival => arrival.code !== null);
      const chain = navigations(again);
      const consentShown = chain.filter(hop => hop === 'POST server /authorize/consent').length > 0 ||
        await again.page.getByRole('button', { name: 'Allow' }).count() > 0;
      if (codeForBob && !consentShown) {
        await finishAuthorization(provider, codeForBob);
        assert.fail(`the client got a code, and with it ${await myProfileUpn(provider)}'s profile, though Bob never approved it: ` +
          `${JSON.stringify(chain)} (remembered consent is looked up for the browser's previous user before Entra sign-in, ` +
          'and /auth/callback does not check that the user who signed in is that user)');
      }
    } finally {
      remote.entra.signInAs(ALICE);
    }
  });
});
