/**
 * The clients the authorization server knows: registered dynamically (RFC 7591), or named by an
 * https URL to their client metadata document (CIMD, MCP 2025-11-25), fetched and checked. Every
 * redirect URI must match ENTRA_MCP_ALLOWED_REDIRECTS. Registrations are stored sealed (a
 * confidential client's secret is in them).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import { InvalidClientMetadataError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { wildcardMatches } from '../../shared/wildcard';
import { AuthStore } from './authStore';
import { SealedBox } from './sealedBox';
import { httpsFetch } from '../../server/graph/httpsFetch';

export const CLIENT_LIFETIME_MS = 90 * 24 * 3_600_000;
const METADATA_CACHE_MS = 10 * 60_000;
const METADATA_MAX_BYTES = 16 * 1024;
const METADATA_TIMEOUT_MS = 5_000;

export interface ClientRegistryOptions {
  readonly allowedRedirects: readonly string[];
  /** Fetch metadata documents from loopback/private addresses (a server on loopback, in development and tests). */
  readonly allowPrivateMetadataHosts: boolean;
}

export class ClientRegistry implements OAuthRegisteredClientsStore {
  constructor(private readonly store: AuthStore, private readonly box: SealedBox, private readonly options: ClientRegistryOptions) {}

  async getClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    if (clientId.startsWith('https://')) {
      return this.metadataDocumentClient(clientId);
    }
    const sealed = await this.store.get('client', clientId);
    const text = sealed ? this.box.open(sealed, `client:${clientId}`) : undefined;
    return text ? JSON.parse(text) as OAuthClientInformationFull : undefined;
  }

  async registerClient(client: Omit<OAuthClientInformationFull, 'client_id' | 'client_id_issued_at'>): Promise<OAuthClientInformationFull> {
    const full = client as OAuthClientInformationFull;
    this.checkRedirects(full.redirect_uris);
    await this.store.put('client', full.client_id, this.box.seal(JSON.stringify(full), `client:${full.client_id}`), CLIENT_LIFETIME_MS);
    return full;
  }

  /** Whether a redirect URI matches one of the allowed patterns (`*` = any characters). */
  isAllowedRedirect(uri: string): boolean {
    return this.options.allowedRedirects.some(pattern => wildcardMatches(pattern, uri));
  }

  private checkRedirects(uris: readonly string[]): void {
    if (uris.length === 0) {
      throw new InvalidClientMetadataError('redirect_uris must name at least one redirect URI.');
    }
    for (const uri of uris) {
      let url: URL;
      try {
        url = new URL(uri);
      } catch {
        throw new InvalidClientMetadataError(`redirect URI ${uri.slice(0, 200)} is not a URL.`);
      }
      if (url.hash || !this.isAllowedRedirect(uri)) {
        throw new InvalidClientMetadataError(`redirect URI ${uri.slice(0, 200)} is not allowed by this server (ENTRA_MCP_ALLOWED_REDIRECTS).`);
      }
    }
  }

  /** A CIMD client: the document at its client id, cached briefly; undefined when it cannot be used. */
  private async metadataDocumentClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    const cached = await this.store.get('cimd', clientId);
    if (cached) {
      return JSON.parse(cached) as OAuthClientInformationFull;
    }
    const document = await this.fetchMetadataDocument(clientId).catch(() => undefined);
    if (!document) {
      return undefined;
    }
    await this.store.put('cimd', clientId, JSON.stringify(document), METADATA_CACHE_MS);
    return document;
  }

  private async fetchMetadataDocument(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    const url = new URL(clientId);
    if (url.hash || url.username || url.password || url.pathname === '/') {
      return undefined;
    }
    await this.refusePrivateHost(url.hostname);
    const response = await httpsFetch(url, { redirect: 'error', signal: AbortSignal.timeout(METADATA_TIMEOUT_MS), headers: { Accept: 'application/json' } });
    if (!response.ok || Number(response.headers.get('content-length') ?? 0) > METADATA_MAX_BYTES) {
      return undefined;
    }
    const text = await response.text();
    if (text.length > METADATA_MAX_BYTES) {
      return undefined;
    }
    const document = JSON.parse(text) as Partial<OAuthClientInformationFull> & Record<string, unknown>;
    // The document must name itself, be for a public client, and hold no secret (spec: CIMD).
    if (document.client_id !== clientId || !Array.isArray(document.redirect_uris) || document.client_secret !== undefined ||
      (document.token_endpoint_auth_method ?? 'none') !== 'none') {
      return undefined;
    }
    this.checkRedirects(document.redirect_uris as string[]);
    return {
      client_id: clientId,
      client_name: typeof document.client_name === 'string' ? document.client_name.slice(0, 200) : undefined,
      client_uri: typeof document.client_uri === 'string' ? document.client_uri : undefined,
      logo_uri: typeof document.logo_uri === 'string' ? document.logo_uri : undefined,
      redirect_uris: document.redirect_uris as string[],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }

  /** The server must not be made to fetch from its own network (SSRF) on a client's say. */
  private async refusePrivateHost(hostname: string): Promise<void> {
    if (this.options.allowPrivateMetadataHosts) {
      return;
    }
    const bare = hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(bare) ? [bare] : (await lookup(bare, { all: true })).map(entry => entry.address);
    if (addresses.some(isPrivateAddress)) {
      throw new Error('client metadata host is a private address');
    }
  }
}

/** Loopback, private, link-local, carrier-grade NAT and unspecified addresses, IPv4 also when mapped into IPv6. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const v4 = mapped ?? (isIP(address) === 4 ? address : undefined);
  if (v4) {
    return /^(127\.|10\.|192\.168\.|169\.254\.|0\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(v4);
  }
  return address === '::1' || address === '::' || /^f[cd]/i.test(address) || /^fe[89ab]/i.test(address);
}
