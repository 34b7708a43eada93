/**
 * The authorization server's endpoints in proxy mode, on the MCP SDK's ready-made handlers where
 * they fit (/authorize, /token, /register, /revoke: they check request shapes, clients, redirect
 * URIs and PKCE), plus ours: the metadata (RFC 8414, with `jwks_uri` and CIMD support, which the
 * SDK's lacks), /jwks, the consent decision and Entra's /auth/callback.
 */
import express, { Express, NextFunction, Request, Response } from 'express';
import { authorizationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/authorize.js';
import { clientRegistrationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/register.js';
import { revocationHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/revoke.js';
import { tokenHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/token.js';
import { StoreUnavailable } from '../fleet/redisAuthStore';
import { ProxyProvider } from './proxyProvider';

export const AUTH_PATHS = ['/authorize', '/authorize/consent', '/token', '/register', '/revoke', '/jwks', '/auth/callback',
  '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

export interface AuthRoutesOptions {
  readonly provider: ProxyProvider;
  readonly issuer: string;
  readonly jwks: { keys: unknown[] };
  readonly scopes: readonly string[];
  readonly trustProxy: boolean;
}

/** Whether a path belongs to the authorization server. */
export function isAuthPath(path: string): boolean {
  return AUTH_PATHS.includes(path);
}

export function authRoutes(options: AuthRoutesOptions): Express {
  const { provider, issuer } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ? 1 : false);
  const metadata = authorizationServerMetadata(issuer, options.scopes);
  // Public documents: browser-based clients (MCP Inspector's web UI) read them across origins.
  const serveMetadata = (_req: Request, res: Response) => {
    res.set({ 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' }).json(metadata);
  };
  app.get('/.well-known/oauth-authorization-server', serveMetadata);
  app.get('/.well-known/openid-configuration', serveMetadata);
  app.get('/jwks', (_req, res) => { res.set({ 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' }).json(options.jwks); });
  app.post('/authorize/consent', express.urlencoded({ extended: false, limit: '8kb' }), handle(provider.decide));
  app.get('/auth/callback', handle(provider.callback));
  app.use('/authorize', authorizationHandler({ provider }));
  app.use('/token', tokenHandler({ provider }));
  app.use('/register', clientRegistrationHandler({ clientsStore: provider.clientsStore }));
  app.use('/revoke', revocationHandler({ provider }));
  app.use(storeOutage);
  return app;
}

/** The store failed under one of our own routes: try again shortly; anything else is a plain 500 without details. */
function storeOutage(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    return next(error);
  }
  if (error instanceof StoreUnavailable) {
    res.set('Retry-After', String(error.retryAfterSeconds)).status(503)
      .json({ error: 'temporarily_unavailable', error_description: 'The sign-in service is briefly unavailable. Try again in a few seconds.' });
    return;
  }
  res.status(500).json({ error: 'server_error' });
}

/** RFC 8414 metadata: what an MCP client reads to register, authorize and refresh. */
export function authorizationServerMetadata(issuer: string, scopes: readonly string[]): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    jwks_uri: `${issuer}/jwks`,
    scopes_supported: [...scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}

/** Express 5 passes rejected promises on; this turns them into a plain 500 without details. */
function handle(work: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => { work(req, res).catch(next); };
}
