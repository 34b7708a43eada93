/**
 * The proxy mode's consent page and its CSRF protection: first as strings (escaping, URL
 * filtering, headers, tokens), then as a real web page in headless Chromium, because the traps that
 * matter (Origin: null under no-referrer, form-action applied to redirects, framing, SameSite) only
 * show in a browser.
 */
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ConsentView, consentPageHeaders, renderConsentPage, renderMessagePage } from '../../src/remote/proxy/consentPage';
import { CSRF_COOKIE, ConsentCsrf, csrfCookieHeader, readCookie } from '../../src/remote/proxy/csrf';
import { startLocalHttps, stopLocalHttps } from '../helpers/localHttps';

const HOSTILE_NAME = `<img src=x onerror=alert(1)>"'&`;
const TOOLS: ConsentView['tools'] = [
  { name: 'get_my_profile', title: 'Read my profile', readOnly: true },
  { name: 'send_mail', title: 'Send an email as me', readOnly: false },
];

/** The same lookup and flags as the project's other Chromium runs (scripts/vscodeHost.mjs, scripts/integration.mjs). */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(__dirname, '..', '..', 'screenshots');

function view(overrides: Partial<ConsentView> = {}): ConsentView {
  return {
    serverName: 'Entra MCP tools', clientName: 'Test Client', redirectHost: '127.0.0.1:33418', tools: TOOLS,
    pendingId: 'pending-1', csrfToken: 'token-1', actionPath: '/authorize/consent', ...overrides,
  };
}

function styleOf(html: string): string {
  const match = /<style>([\s\S]*?)<\/style>/.exec(html);
  assert.ok(match, 'the page has a <style> element');
  return match[1];
}

describe('remote server: consent page', function () {
  this.timeout(60_000);

  describe('as HTML', () => {
    it('escapes a hostile client name everywhere it appears', () => {
      const html = renderConsentPage(view({ clientName: HOSTILE_NAME }));
      assert.ok(!html.includes('<img src=x'), 'no markup from the client name');
      assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;'), 'the name is there, as text');
      assert.equal(/<img/i.test(html), false, 'no image at all without a logo');
    });

    it('escapes every other untrusted value, attributes included', () => {
      const html = renderConsentPage(view({
        pendingId: '"><script>alert(1)</script>', csrfToken: `' autofocus onfocus='alert(1)`, redirectHost: '<b>evil</b>',
        clientUri: 'https://evil.example/"><script>', tools: [{ name: '<i>x</i>', title: '<u>y</u>', readOnly: true }],
      }));
      assert.equal(/<script|<b>|<i>|<u>|onfocus='/i.test(html), false, html);
      assert.ok(html.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
      assert.ok(html.includes('value="&#39; autofocus onfocus=&#39;alert(1)"'));
      assert.ok(html.includes('<dd>evil.example</dd>'), 'only the website host is shown');
    });

    it('shows a logo only as the <img src> of an https URL', () => {
      const shown = renderConsentPage(view({ logoUri: 'https://cdn.example/logo.png?a=1&b="2"' }));
      assert.match(shown, /<img src="https:\/\/cdn\.example\/logo\.png\?a=1&amp;b=%222%22" alt=""/);
      for (const refused of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'data:image/svg+xml,<svg onload=alert(1)>',
        'http://cdn.example/logo.png', 'https://user:secret@cdn.example/logo.png', '//cdn.example/logo.png', 'not a url']) {
        const html = renderConsentPage(view({ logoUri: refused }));
        assert.equal(/<img/i.test(html), false, `logo ${refused} refused`);
        assert.equal(/javascript:|data:/i.test(html), false);
      }
    });

    it('is a complete, script-free, accessible document with the form the spec asks for', () => {
      const html = renderConsentPage(view());
      assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.equal(/<script/i.test(html), false);
      assert.equal(html.match(/<h1[ >]/g)?.length, 1);
      assert.equal(html.match(/<main>/g)?.length, 1);
      assert.match(html, /<form method="post" action="\/authorize\/consent">/);
      assert.match(html, /<input type="hidden" name="pending" value="pending-1">/);
      assert.match(html, /<input type="hidden" name="csrf_token" value="token-1">/);
      assert.match(html, /<button type="submit" class="allow" name="decision" value="allow">Allow<\/button>/);
      assert.match(html, /<button type="submit" class="deny" name="decision" value="deny">Deny<\/button>/);
      assert.match(html, /Only allow applications you trust/);
      assert.match(html, /act as you in Microsoft 365/);
      assert.match(html, /127\.0\.0\.1:33418/);
      assert.match(html, /Send an email as me<\/span> <code>send_mail<\/code> <span class="badge writes">Changes data/);
      assert.match(html, /Read my profile<\/span> <code>get_my_profile<\/code> <span class="badge reads">Read only/);
      assert.throws(() => renderConsentPage(view({ actionPath: '//evil.example/steal' })));
    });

    it('strips bidi overrides and control characters from names and bounds their length', () => {
      const html = renderConsentPage(view({ clientName: `Good\u202Eelpmaxe.live\u0000\n${'x'.repeat(200)}` }));
      assert.equal(/[\u202E\u0000]/.test(html), false);
      assert.ok(!html.includes('x'.repeat(80)), 'long names are cut');
    });

    it('renders a message page with the same look, escaped', () => {
      const html = renderMessagePage('<Expired>', `This request expired. <a href="javascript:x">again</a>`);
      assert.match(html, /<h1>&lt;Expired&gt;<\/h1>/);
      assert.equal(/<a /.test(html), false);
      assert.equal(styleOf(html), styleOf(renderConsentPage(view())), 'the same stylesheet, so the same CSP hash');
    });

    it('serves both pages with a CSP that allows exactly its own stylesheet, the form targets and nothing else', () => {
      const headers = consentPageHeaders('https://login.microsoftonline.com/some/path');
      const hash = createHash('sha256').update(styleOf(renderConsentPage(view())), 'utf8').digest('base64');
      assert.deepEqual(headers, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${hash}'; img-src https:; `
          + `form-action 'self' https://login.microsoftonline.com; frame-ancestors 'none'; base-uri 'none'`,
        'X-Frame-Options': 'DENY',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'same-origin',
      });
      assert.ok(!headers['Content-Security-Policy'].includes('unsafe-inline'));
      assert.match(consentPageHeaders('https://login.example', 'http://127.0.0.1:33418/callback')['Content-Security-Policy'],
        /form-action 'self' https:\/\/login\.example http:\/\/127\.0\.0\.1:33418;/);
      assert.match(consentPageHeaders('https://login.example', 'cursor://anysphere.cursor-mcp/oauth/callback')['Content-Security-Policy'],
        /form-action 'self' https:\/\/login\.example cursor:;/);
      assert.throws(() => consentPageHeaders('javascript:alert(1)'));
      assert.throws(() => consentPageHeaders("https://login.example'; script-src *"), 'not an origin: refused, not pasted');
      assert.throws(() => consentPageHeaders('https://login.example', 'javascript:alert(1)'));
    });
  });

  describe('CSRF tokens', () => {
    const csrf = new ConsentCsrf(randomBytes(32));

    it('verifies a token only with its own cookie and pending id', () => {
      const { cookieValue, token } = csrf.issue('pending-a');
      const other = csrf.issue('pending-a');
      assert.equal(csrf.verify('pending-a', cookieValue, token), true);
      assert.notEqual(other.token, token, 'a fresh cookie, so a fresh token, every time');
      assert.equal(csrf.verify('pending-b', cookieValue, token), false, 'another pending authorization');
      assert.equal(csrf.verify('pending-a', other.cookieValue, token), false, 'another cookie');
      assert.equal(csrf.verify('pending-a', cookieValue, other.token), false, 'another token');
      assert.equal(new ConsentCsrf(randomBytes(32)).verify('pending-a', cookieValue, token), false, 'another secret');
    });

    it('refuses anything missing or malformed', () => {
      const { cookieValue, token } = csrf.issue('pending-a');
      for (const [cookie, presented] of [[undefined, token], [cookieValue, undefined], ['', ''], [cookieValue, `${token}=`],
        [cookieValue, token.slice(1)], [cookieValue, `${token}A`], [cookieValue, token.replace(/^./, '*')]] as const) {
        assert.equal(csrf.verify('pending-a', cookie, presented), false);
      }
      assert.equal(csrf.verify('', cookieValue, token), false);
      assert.throws(() => new ConsentCsrf(randomBytes(16)), /at least 32 bytes/);
      assert.throws(() => csrf.issue(''));
    });

    it('sets an HttpOnly, SameSite=Strict, ten-minute cookie, Secure over https', () => {
      const { cookieValue } = csrf.issue('pending-a');
      assert.equal(csrfCookieHeader(cookieValue, true, '/authorize'),
        `${CSRF_COOKIE}=${cookieValue}; Path=/authorize; Max-Age=600; HttpOnly; SameSite=Strict; Secure`);
      assert.equal(csrfCookieHeader(cookieValue, false, '/'), `${CSRF_COOKIE}=${cookieValue}; Path=/; Max-Age=600; HttpOnly; SameSite=Strict`);
      assert.throws(() => csrfCookieHeader('x; Domain=evil.example', true, '/'));
      assert.throws(() => csrfCookieHeader(cookieValue, true, '/a; Domain=evil.example'));
    });

    it('reads a cookie out of a Cookie header', () => {
      assert.equal(readCookie(`a=1; ${CSRF_COOKIE}=abc; b=2`, CSRF_COOKIE), 'abc');
      assert.equal(readCookie(`x${CSRF_COOKIE}=no; ${CSRF_COOKIE}=yes`, CSRF_COOKIE), 'yes');
      assert.equal(readCookie(`${CSRF_COOKIE}=first; ${CSRF_COOKIE}=second`, CSRF_COOKIE), 'first');
      assert.equal(readCookie('a=1', CSRF_COOKIE), undefined);
      assert.equal(readCookie(undefined, CSRF_COOKIE), undefined);
    });
  });

  describe('in Chromium', function () {
    let browser: Browser;
    let sites: Sites;

    before(async function () {
      if (!existsSync(CHROMIUM)) {
        console.log(`consent page: browser tests skipped, no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
        this.skip();
      }
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      sites = await startSites();
    });
    after(async () => {
      await browser?.close();
      await sites?.stop();
    });

    /** A fresh browser profile per test: no cookie carries over from one to the next. */
    let context: BrowserContext;
    let page: Page;
    let dialogs: string[];
    beforeEach(async () => {
      context = await browser.newContext({ ignoreHTTPSErrors: true });
      page = await context.newPage();
      dialogs = [];
      page.on('dialog', dialog => { dialogs.push(dialog.message()); void dialog.dismiss(); });
    });
    afterEach(async () => context?.close());

    it('shows the client, its redirect host and the tools, and a hostile name only as text', async () => {
      await page.goto(sites.consentUrl({ name: HOSTILE_NAME, logo: `${sites.logoOrigin}/logo.svg` }));
      assert.equal(await page.locator('h1').textContent(), `Allow ${HOSTILE_NAME} to use Entra MCP tools as you?`);
      const text = await page.locator('main').innerText();
      assert.match(text, /127\.0\.0\.1:33418/);
      assert.match(text, /Read my profile\s+get_my_profile\s+Read only/);
      assert.match(text, /Send an email as me\s+send_mail\s+Changes data/);
      assert.match(text, /Only allow applications you trust/);
      await page.waitForTimeout(300);
      assert.deepEqual(dialogs, [], 'no script ran');
      assert.equal(await page.evaluate<number>(`document.querySelectorAll('script, [onerror], img[src="x"]').length`), 0);
      assert.equal(await page.evaluate<number>(`document.querySelectorAll('img').length`), 1, 'only the logo');
      assert.ok(await page.evaluate<number>(`document.querySelector('img').naturalWidth`) > 0, 'the https logo loads under img-src https:');
    });

    it('shows no image for a javascript: logo', async () => {
      await page.goto(sites.consentUrl({ logo: 'javascript:alert(1)' }));
      assert.equal(await page.locator('img').count(), 0);
      assert.deepEqual(dialogs, []);
    });

    it('works without JavaScript: Allow reaches the authority, through the form-action of the CSP', async () => {
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      try {
        const plain = await noScript.newPage();
        await plain.goto(sites.consentUrl());
        await Promise.all([plain.waitForURL(`${sites.authorityOrigin}/authorize`), plain.getByRole('button', { name: 'Allow' }).click()]);
        assert.equal(await plain.locator('body').innerText(), 'entra');
        const post = sites.posts.at(-1);
        assert.equal(post?.decision, 'allow');
        assert.equal(post?.status, 302);
      } finally {
        await noScript.close();
      }
    });

    it('Deny ends the request without sending the user to the authority', async () => {
      await page.goto(sites.consentUrl());
      await Promise.all([page.waitForURL(`${sites.consentOrigin}/authorize/consent`), page.getByRole('button', { name: 'Deny' }).click()]);
      assert.equal(await page.locator('h1').textContent(), 'Access denied');
    });

    it('sends a real Origin and Referer with the approval (not "null")', async () => {
      await page.goto(sites.consentUrl());
      await Promise.all([page.waitForURL(`${sites.authorityOrigin}/authorize`), page.getByRole('button', { name: 'Allow' }).click()]);
      const post = sites.posts.at(-1);
      assert.equal(post?.origin, sites.consentOrigin);
      assert.ok(post?.referer?.startsWith(`${sites.consentOrigin}/authorize?`), post?.referer);
      assert.equal(post?.status, 302);
      assert.equal(sites.authorityReferers.at(-1), undefined, 'same-origin: the consent URL is not sent on to the authority');
    });

    it('refuses a forged approval from another site, even one that knows the token (403)', async () => {
      await page.goto(sites.consentUrl());
      const pendingId = await page.locator('input[name=pending]').inputValue();
      const token = await page.locator('input[name=csrf_token]').inputValue();
      const authorityHitsBefore = sites.authorityHits;
      const attacker = await context.newPage();
      await attacker.goto(sites.forgeUrl(sites.crossSiteOrigin, pendingId, token));
      await Promise.all([attacker.waitForURL(`${sites.consentOrigin}/authorize/consent`), attacker.getByRole('button', { name: 'Claim your prize' }).click()]);
      const post = sites.posts.at(-1);
      assert.equal(post?.status, 403);
      assert.equal(post?.hadCookie, false, 'SameSite=Strict: the cookie stays home on a cross-site POST');
      assert.equal(post?.origin, sites.crossSiteOrigin);
      assert.equal(await attacker.locator('h1').textContent(), 'Request refused');
      assert.equal(sites.authorityHits, authorityHitsBefore, 'nothing reached the authority');
    });

    it('refuses a wrong token even when the cookie comes along (same site, other origin), and a POST with no cookie', async () => {
      await page.goto(sites.consentUrl());
      const pendingId = await page.locator('input[name=pending]').inputValue();
      const attacker = await context.newPage();
      await attacker.goto(sites.forgeUrl(sites.sameSiteOtherOrigin, pendingId, randomBytes(32).toString('base64url')));
      await Promise.all([attacker.waitForURL(`${sites.consentOrigin}/authorize/consent`), attacker.getByRole('button', { name: 'Claim your prize' }).click()]);
      assert.deepEqual([sites.posts.at(-1)?.status, sites.posts.at(-1)?.hadCookie], [403, true]);

      const token = await page.locator('input[name=csrf_token]').inputValue();
      const noCookie = await fetch(`${sites.consentOrigin}/authorize/consent`, {
        method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ pending: pendingId, csrf_token: token, decision: 'allow' }),
      });
      assert.equal(noCookie.status, 403);
    });

    it('cannot be framed by another origin (clickjacking)', async () => {
      const before = sites.consentGets;
      await page.goto(`${sites.crossSiteOrigin}/frame?src=${encodeURIComponent(sites.consentUrl())}`);
      await page.waitForFunction(`document.querySelector('iframe') !== null`);
      await page.waitForTimeout(500);
      assert.ok(sites.consentGets > before, 'the frame did ask for the page: the headers refused it, not the network');
      const frame = page.frames().find(candidate => candidate !== page.mainFrame());
      assert.ok(frame, 'the frame exists');
      const framedText = await frame.evaluate<string>(`document.body ? document.body.innerText : ''`).catch(() => '');
      assert.ok(!framedText.includes('Allow') && !framedText.includes('Test Client'), `framed content: ${JSON.stringify(framedText.slice(0, 80))}`);
      assert.equal(await frame.locator('button').count().catch(() => 0), 0);
    });

    it('can be used with the keyboard alone: Tab reaches Allow, with a visible focus ring, and Enter submits', async () => {
      await page.goto(sites.consentUrl());
      let focused = '';
      for (let presses = 0; presses < 10 && focused !== 'allow'; presses++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate<string>(`document.activeElement && document.activeElement.value || ''`);
      }
      assert.equal(focused, 'allow');
      const ring = await page.evaluate<{ style: string; width: string }>(
        `(() => { const s = getComputedStyle(document.activeElement); return { style: s.outlineStyle, width: s.outlineWidth }; })()`);
      assert.deepEqual(ring, { style: 'solid', width: '3px' });
      await Promise.all([page.waitForURL(`${sites.authorityOrigin}/authorize`), page.keyboard.press('Enter')]);
    });

    it('has text contrast of at least 4.5:1 everywhere, buttons included, and fits 320 px without scrolling sideways', async () => {
      await page.setViewportSize({ width: 320, height: 800 });
      await page.goto(sites.consentUrl({ name: 'A client with a rather long name that has to wrap somewhere' }));
      const contrasts = await page.evaluate<Array<{ text: string; ratio: number }>>(CONTRAST_OF_EVERY_TEXT);
      assert.ok(contrasts.length >= 10, `measured ${contrasts.length} texts`);
      for (const button of ['Allow', 'Deny']) {
        assert.ok(contrasts.some(entry => entry.text === button), `${button} measured`);
      }
      const poor = contrasts.filter(entry => entry.ratio < 4.5);
      assert.deepEqual(poor, [], 'every text has contrast ≥ 4.5:1');
      assert.ok(await page.evaluate<number>(`document.documentElement.scrollWidth`) <= 320, 'no horizontal scrolling at 320 px');
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'consent-320.png'), fullPage: true });
    });

    it('follows the whole redirect chain back to the client when the authority answers at once (form-action)', async () => {
      // An authority with a session already 302s straight back to /auth/callback, which 302s to the client:
      // all one form navigation, so the client's redirect origin must be in form-action too.
      await page.goto(sites.consentUrl({ sso: '1' }));
      await Promise.all([page.waitForURL(`${sites.clientOrigin}/callback?code=test-code`), page.getByRole('button', { name: 'Allow' }).click()]);
      assert.equal(await page.locator('body').innerText(), 'client got its code');
    });

    it('takes a screenshot of the page', async () => {
      await page.setViewportSize({ width: 900, height: 900 });
      await page.goto(sites.consentUrl({ logo: `${sites.logoOrigin}/logo.svg` }));
      mkdirSync(SCREENSHOTS, { recursive: true });
      const file = join(SCREENSHOTS, 'consent.png');
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(statSync(file).size > 1024);
      assert.deepEqual([...readFileSync(file).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    });
  });
});

/**
 * For every element with text of its own: WCAG contrast of its colour against the first opaque
 * background found walking up (the canvas is white). Runs in the page, hence a string.
 */
const CONTRAST_OF_EVERY_TEXT = `(() => {
  const parse = value => (value.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = c => { c /= 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = element => {
    for (let node = element; node; node = node.parentElement) {
      const rgba = parse(getComputedStyle(node).backgroundColor);
      if (rgba.length === 3 || (rgba.length === 4 && rgba[3] === 1)) { return rgba.slice(0, 3); }
    }
    return [255, 255, 255];
  };
  const results = [];
  for (const element of document.querySelectorAll('main, main *')) {
    const own = [...element.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join(' ').trim();
    if (!own || element.closest('[hidden]') || element.type === 'hidden') { continue; }
    const fg = luminance(parse(getComputedStyle(element).color));
    const bg = luminance(background(element));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    results.push({ text: own.slice(0, 40), ratio: Math.round(ratio * 100) / 100 });
  }
  return results;
})()`;

interface ConsentPost { decision?: string; status: number; origin?: string; referer?: string; hadCookie: boolean }

interface Sites {
  consentOrigin: string;
  authorityOrigin: string;
  clientOrigin: string;
  logoOrigin: string;
  /** Another site: `localhost` is not the same site as `127.0.0.1`, so SameSite cookies stay behind. */
  crossSiteOrigin: string;
  /** Another origin of the same site (another port of 127.0.0.1): SameSite cookies do come along. */
  sameSiteOtherOrigin: string;
  posts: ConsentPost[];
  authorityReferers: Array<string | undefined>;
  readonly authorityHits: number;
  readonly consentGets: number;
  consentUrl(options?: { name?: string; logo?: string; sso?: string }): string;
  forgeUrl(attackerOrigin: string, pendingId: string, token: string): string;
  stop(): Promise<void>;
}

/**
 * The servers of one browser test: the consent page as the lead's routes will serve it, a stand-in
 * authority (Entra), the client's loopback redirect, an https logo host and an attacker's site.
 */
async function startSites(): Promise<Sites> {
  const csrf = new ConsentCsrf(randomBytes(32));
  const pending = new Map<string, { sso: boolean }>();
  const posts: ConsentPost[] = [];
  const authorityReferers: Array<string | undefined> = [];
  let authorityHits = 0;
  let consentGets = 0;
  const origins = { consent: '', authority: '', client: '', logo: '', attacker: 0 };

  const authority = await listen((request, response) => {
    if (request.url === '/favicon.ico') {
      response.writeHead(404).end();
      return;
    }
    authorityHits++;
    authorityReferers.push(request.headers.referer);
    if (request.url === '/sso') {
      response.writeHead(302, { Location: `${origins.consent}/auth/callback` }).end();
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>entra</title><p>entra</p>');
    }
  });
  const client = await listen((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>client</title><p>client got its code</p>');
  });
  const logo = await startLocalHttps((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'image/svg+xml' })
      .end('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="8" fill="#6b3fa0"/><path d="M14 34l10-20 10 20z" fill="#fff"/></svg>');
  });
  const consent = await listen((request, response) => {
    const url = new URL(request.url ?? '/', origins.consent);
    if (request.method === 'GET' && url.pathname === '/authorize') {
      consentGets++;
      const pendingId = randomBytes(16).toString('base64url');
      const sso = url.searchParams.get('sso') === '1';
      pending.set(pendingId, { sso });
      const { cookieValue, token } = csrf.issue(pendingId);
      response.writeHead(200, { ...headersFor(sso), 'Set-Cookie': csrfCookieHeader(cookieValue, false, '/authorize') });
      response.end(renderConsentPage(view({
        clientName: url.searchParams.get('name') ?? 'Test Client', logoUri: url.searchParams.get('logo') ?? undefined,
        clientUri: 'https://client.example/about', pendingId, csrfToken: token,
      })));
    } else if (request.method === 'POST' && url.pathname === '/authorize/consent') {
      void readForm(request).then(form => answerConsent(request, response, form));
    } else if (url.pathname === '/auth/callback') {
      response.writeHead(302, { Location: `${origins.client}/callback?code=test-code` }).end();
    } else {
      response.writeHead(404).end();
    }
  });
  const attacker = await listen((request, response) => {
    const url = new URL(request.url ?? '/', 'http://attacker.invalid');
    const field = (name: string) => escapeAttribute(url.searchParams.get(name) ?? '');
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    if (url.pathname === '/frame') {
      response.end(`<!DOCTYPE html><title>frame</title><iframe src="${field('src')}" width="600" height="600"></iframe>`);
    } else {
      response.end(`<!DOCTYPE html><title>prize</title><form method="post" action="${origins.consent}/authorize/consent">`
        + `<input type="hidden" name="pending" value="${field('pending')}"><input type="hidden" name="csrf_token" value="${field('token')}">`
        + '<button name="decision" value="allow">Claim your prize</button></form>');
    }
  });

  origins.consent = `http://127.0.0.1:${portOf(consent)}`;
  origins.authority = `http://127.0.0.1:${portOf(authority)}`;
  origins.client = `http://127.0.0.1:${portOf(client)}`;
  origins.logo = `https://127.0.0.1:${portOf(logo)}`;
  origins.attacker = portOf(attacker);

  function headersFor(sso: boolean): Record<string, string> {
    return consentPageHeaders(origins.authority, sso ? `${origins.client}/callback` : undefined);
  }

  function answerConsent(request: http.IncomingMessage, response: http.ServerResponse, form: URLSearchParams): void {
    const pendingId = form.get('pending') ?? '';
    const cookie = readCookie(request.headers.cookie, CSRF_COOKIE);
    const entry = pending.get(pendingId);
    const record = (status: number) => posts.push({
      decision: form.get('decision') ?? undefined, status, origin: request.headers.origin, referer: request.headers.referer, hadCookie: cookie !== undefined,
    });
    if (!entry || !csrf.verify(pendingId, cookie, form.get('csrf_token') ?? undefined)) {
      record(403);
      response.writeHead(403, consentPageHeaders(origins.authority)).end(renderMessagePage('Request refused', 'This approval did not come from the consent page. Start signing in again from your application.'));
      return;
    }
    pending.delete(pendingId);
    if (form.get('decision') !== 'allow') {
      record(200);
      response.writeHead(200, consentPageHeaders(origins.authority)).end(renderMessagePage('Access denied', 'You can close this window.'));
      return;
    }
    record(302);
    response.writeHead(302, { Location: `${origins.authority}${entry.sso ? '/sso' : '/authorize'}` }).end();
  }

  const servers = [consent, authority, client, attacker];
  return {
    consentOrigin: origins.consent,
    authorityOrigin: origins.authority,
    clientOrigin: origins.client,
    logoOrigin: origins.logo,
    crossSiteOrigin: `http://localhost:${origins.attacker}`,
    sameSiteOtherOrigin: `http://127.0.0.1:${origins.attacker}`,
    posts,
    authorityReferers,
    get authorityHits() { return authorityHits; },
    get consentGets() { return consentGets; },
    consentUrl(options = {}) {
      const query = new URLSearchParams({ client_id: 'test-client', ...options });
      return `${origins.consent}/authorize?${query}`;
    },
    forgeUrl(attackerOrigin, pendingId, token) {
      return `${attackerOrigin}/prize?${new URLSearchParams({ pending: pendingId, token })}`;
    },
    async stop() {
      await Promise.all(servers.map(server => closeServer(server)));
      await stopLocalHttps(logo);
    },
  };
}

async function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: http.Server): number {
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>(resolve => server.close(() => resolve()));
}

async function readForm(request: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 16_384) { break; }
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, character => `&#${character.charCodeAt(0)};`);
}
