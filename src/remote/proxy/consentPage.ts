/**
 * The consent page `/authorize` shows before it sends the user to Entra ID. One Entra client id
 * serves every MCP client behind this server, so without it any client that registers itself
 * could borrow a signed-in user's Entra session (the confused deputy the MCP spec warns about).
 *
 * Pure rendering: no I/O. Everything a client registered (name, URIs) is untrusted and reaches the
 * page only HTML-escaped. The page has no script at all, works as a plain POST form, and its only
 * inline CSS is allowed by hash, so the CSP needs neither 'unsafe-inline' nor a nonce.
 */
import { createHash } from 'node:crypto';

export interface ConsentView {
  /** e.g. 'Entra MCP tools'. */
  serverName: string;
  /** From the client's registration: untrusted text. */
  clientName: string;
  /** Untrusted; shown as text (its host) only when it is an http(s) URL. */
  clientUri?: string;
  /** Untrusted; shown only if it is an https: URL. */
  logoUri?: string;
  /** Host (and port) of the redirect URI the client will receive the code at. */
  redirectHost: string;
  tools: ReadonlyArray<{ name: string; title: string; readOnly: boolean }>;
  /** Hidden field `pending`. */
  pendingId: string;
  /** Hidden field `csrf_token`. */
  csrfToken: string;
  /** Where the form POSTs, e.g. '/authorize/consent'. */
  actionPath: string;
}

const MAX_CLIENT_NAME_CHARS = 80;
const MAX_TOOL_TEXT_CHARS = 120;
const MAX_LOGO_URL_CHARS = 2048;

/*
 * Colours (WCAG contrast against their backgrounds): text #1b1b1b on white 17:1, muted #4d4d4d 8.5:1,
 * Allow white on #0b5cad 6.7:1, warning #3d2c00 on #fff8e1 13:1, badges ≥ 7:1. No web fonts.
 */
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{background:#f3f4f6;color:#1b1b1b;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-text-size-adjust:100%}
body{margin:0;padding:1.5rem 1rem}
main{max-width:38rem;margin:0 auto;background:#fff;border:1px solid #d0d4da;border-radius:8px;padding:1.5rem}
.server{margin:0 0 1rem;color:#4d4d4d;font-size:.875rem;font-weight:600;letter-spacing:.02em;text-transform:uppercase}
.heading{display:flex;gap:.75rem;align-items:center}
.heading img{flex:none;width:48px;height:48px;border-radius:8px;object-fit:contain;background:#fff;border:1px solid #d0d4da}
h1{margin:0;font-size:1.375rem;line-height:1.3;overflow-wrap:anywhere}
h2{margin:1.5rem 0 .5rem;font-size:1rem}
.facts{margin:1rem 0;display:grid;grid-template-columns:minmax(0,auto) minmax(0,1fr);gap:.25rem 1rem}
.facts dt{color:#4d4d4d}
.facts dd{margin:0;overflow-wrap:anywhere}
.note{color:#4d4d4d;font-size:.875rem}
.warning{margin:1rem 0;padding:.75rem 1rem;background:#fff8e1;color:#3d2c00;border-left:4px solid #8a6100;border-radius:4px}
.warning p{margin:.25rem 0}
.tools{list-style:none;margin:0;padding:0;border-top:1px solid #e3e6ea}
.tools li{display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:baseline;padding:.5rem 0;border-bottom:1px solid #e3e6ea}
.tools .title{font-weight:600;overflow-wrap:anywhere}
.tools code{font:.875rem/1.4 ui-monospace,"Cascadia Mono",Consolas,"Liberation Mono",monospace;color:#1b1b1b;background:#f0f1f3;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
.badge{margin-left:auto;font-size:.75rem;font-weight:600;padding:0 .5rem;border-radius:999px;white-space:nowrap}
.writes{background:#fdecea;color:#8c1d18}
.reads{background:#e7f3ea;color:#1d5a2b}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
button{font:inherit;font-weight:600;min-height:44px;min-width:7rem;padding:.5rem 1.25rem;border-radius:6px;cursor:pointer}
.allow{background:#0b5cad;color:#fff;border:2px solid #0b5cad}
.allow:hover{background:#084a8c;border-color:#084a8c}
.deny{background:#fff;color:#1b1b1b;border:2px solid #6b6b6b}
.deny:hover{background:#f0f1f3}
button:focus-visible{outline:3px solid #1b1b1b;outline-offset:3px}
@media (max-width:400px){body{padding:.5rem}main{padding:1rem}.facts{grid-template-columns:minmax(0,1fr);gap:0}.facts dd{margin-bottom:.5rem}.actions button{flex:1 1 100%}}
`;

/** sha256 of the exact text inside <style>, for `style-src 'sha256-…'` (CSP hashes the element's content as is). */
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/** Escapes text for HTML content and for double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, character => HTML_ENTITIES[character]);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Untrusted display text made harmless to read: no control characters, no bidi overrides (which
 * could make "evil.example" read as another name), no line breaks, and a bounded length.
 */
export function displayText(text: string, maxChars: number): string {
  const cleaned = String(text)
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const characters = Array.from(cleaned);
  return characters.length > maxChars ? `${characters.slice(0, maxChars - 1).join('')}…` : cleaned;
}

/** The logo's URL if it is a plain https: URL (no javascript:, data:, http: or credentials), else undefined. */
export function safeLogoUrl(logoUri: string | undefined): string | undefined {
  const url = parseUrl(logoUri);
  if (!url || url.protocol !== 'https:' || url.username || url.password || url.href.length > MAX_LOGO_URL_CHARS) {
    return undefined;
  }
  return url.href;
}

function parseUrl(text: string | undefined): URL | undefined {
  if (typeof text !== 'string') {
    return undefined;
  }
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Only the host of the client's website: a full URL is easy to dress up, a host is what the user can judge. */
function clientWebsiteHost(clientUri: string | undefined): string | undefined {
  const url = parseUrl(clientUri);
  return url && (url.protocol === 'https:' || url.protocol === 'http:') && url.host ? url.host : undefined;
}

function isLoopbackHost(host: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d+)?$/i.test(host);
}

export function renderConsentPage(view: ConsentView): string {
  const serverName = escapeHtml(displayText(view.serverName, MAX_CLIENT_NAME_CHARS));
  const clientName = escapeHtml(displayText(view.clientName, MAX_CLIENT_NAME_CHARS) || 'Unnamed application');
  const body = [
    `<p class="server">${serverName}</p>`,
    renderHeading(clientName, serverName, safeLogoUrl(view.logoUri)),
    renderFacts(clientName, view),
    '<div class="warning">',
    '<p><strong>Only allow applications you trust.</strong></p>',
    `<p>If you allow it, ${clientName} will act as you in Microsoft 365: it can use the tools below with your account and your permissions, until you revoke its access.</p>`,
    '<p>If you did not just start signing in to this application, choose Deny.</p>',
    '</div>',
    '<h2 id="tools-heading">Tools it will be able to use</h2>',
    renderTools(view.tools),
    renderForm(view),
  ];
  return renderDocument(`Allow access? · ${serverName}`, body.join('\n'));
}

function renderHeading(clientName: string, serverName: string, logoUrl: string | undefined): string {
  // The logo is decorative (the name is right beside it), so its alt text is empty; no referrer for the client's host.
  const logo = logoUrl ? `<img src="${escapeHtml(logoUrl)}" alt="" width="48" height="48" referrerpolicy="no-referrer">` : '';
  return `<div class="heading">${logo}<h1>Allow ${clientName} to use ${serverName} as you?</h1></div>`;
}

function renderFacts(clientName: string, view: ConsentView): string {
  const website = clientWebsiteHost(view.clientUri);
  const redirectHost = displayText(view.redirectHost, MAX_TOOL_TEXT_CHARS);
  const where = isLoopbackHost(redirectHost) ? ' <span class="note">(an application on this computer)</span>' : '';
  return [
    '<dl class="facts">',
    `<dt>Application</dt><dd>${clientName} <span class="note">(the name the application gave itself; not verified)</span></dd>`,
    website ? `<dt>Website</dt><dd>${escapeHtml(website)}</dd>` : '',
    `<dt>Sign-in returns to</dt><dd><strong>${escapeHtml(redirectHost)}</strong>${where}</dd>`,
    '</dl>',
  ].filter(line => line !== '').join('\n');
}

function renderTools(tools: ConsentView['tools']): string {
  if (tools.length === 0) {
    return '<p>No tools.</p>';
  }
  const items = tools.map(tool => {
    const name = escapeHtml(displayText(tool.name, MAX_TOOL_TEXT_CHARS));
    const title = escapeHtml(displayText(tool.title, MAX_TOOL_TEXT_CHARS)) || name;
    const badge = tool.readOnly ? '<span class="badge reads">Read only</span>' : '<span class="badge writes">Changes data</span>';
    return `<li><span class="title">${title}</span> <code>${name}</code> ${badge}</li>`;
  });
  return `<ul class="tools" aria-labelledby="tools-heading">\n${items.join('\n')}\n</ul>`;
}

function renderForm(view: ConsentView): string {
  if (!view.actionPath.startsWith('/') || view.actionPath.startsWith('//')) {
    throw new Error('The consent form must post to a path of this server.');
  }
  // Allow first: it is the action the user came for; nothing is focused by default, so a stray Enter does nothing.
  return [
    `<form method="post" action="${escapeHtml(view.actionPath)}">`,
    `<input type="hidden" name="pending" value="${escapeHtml(view.pendingId)}">`,
    `<input type="hidden" name="csrf_token" value="${escapeHtml(view.csrfToken)}">`,
    '<div class="actions">',
    '<button type="submit" class="allow" name="decision" value="allow">Allow</button>',
    '<button type="submit" class="deny" name="decision" value="deny">Deny</button>',
    '</div>',
    '</form>',
  ].join('\n');
}

/** For errors (an expired request, a refused form): the same look, no form. */
export function renderMessagePage(title: string, message: string): string {
  const heading = escapeHtml(displayText(title, MAX_TOOL_TEXT_CHARS));
  const text = escapeHtml(displayText(message, 1000));
  return renderDocument(heading, `<h1>${heading}</h1>\n<p>${text}</p>`);
}

/** Every argument is already-escaped HTML. */
function renderDocument(escapedTitle: string, escapedBody: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    '<meta name="color-scheme" content="light">',
    `<title>${escapedTitle}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    escapedBody,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Headers for the consent and message pages.
 *
 * `form-action` must name the authority (Entra) as well as 'self': Chromium applies form-action to
 * every redirect that follows the form's POST, so the server's 302 to Entra's /authorize would be
 * blocked by 'self' alone. The same holds further down the chain: when Entra already has a session
 * it may answer with a 302 straight back to /auth/callback ('self'), whose 302 to the client's
 * redirect URI is still part of the same form navigation, so pass `clientRedirectUri` to allow it.
 *
 * Referrer-Policy is `same-origin`, not `no-referrer`: with no-referrer Chromium sends `Origin: null`
 * on the POST, which an Origin check would refuse; same-origin still sends nothing to other hosts.
 */
export function consentPageHeaders(authorityOrigin: string, clientRedirectUri?: string): Record<string, string> {
  const formAction = ["'self'", originSource(authorityOrigin)];
  if (clientRedirectUri !== undefined) {
    formAction.push(redirectSource(clientRedirectUri));
  }
  const policy = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    'img-src https:',
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': policy,
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'same-origin',
  };
}

/** An http(s) origin as a CSP source; URL.origin can hold no quote, space or semicolon. */
function originSource(text: string): string {
  const url = parseUrl(text);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new Error('The authority origin must be an http(s) URL.');
  }
  return url.origin;
}

/** The client's redirect URI as a CSP source: its origin for http(s), its scheme for an app's private-use scheme (RFC 8252). */
function redirectSource(text: string): string {
  const url = parseUrl(text);
  if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
    return url.origin;
  }
  const scheme = url?.protocol.slice(0, -1).toLowerCase();
  if (!scheme || !/^[a-z][a-z0-9+.-]*$/.test(scheme) || ['javascript', 'data', 'blob', 'file', 'filesystem', 'about'].includes(scheme)) {
    throw new Error('The client redirect URI must be an http(s) URL or use a private-use scheme.');
  }
  return `${scheme}:`;
}
