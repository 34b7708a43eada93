/**
 * msal-node confidential client applications for one tenant of the configured authority. The
 * authority's endpoints are given, so MSAL asks no instance discovery of Microsoft's: sovereign,
 * custom and test authorities work alike; every network call has a deadline.
 */
import { ConfidentialClientApplication, Configuration, ICachePlugin } from '@azure/msal-node';
import { BoundedNetworkClient } from './boundedNetworkClient';
import { CredentialOptions } from './clientCredential';

export interface EntraApp {
  readonly authorityHost: string;
  readonly clientId: string;
  readonly credential: CredentialOptions;
}

const network = new BoundedNetworkClient();

/** A new application: callers keep one per exchange or per user, never one cache for everyone. */
export function confidentialClient(app: EntraApp, tenantId: string, cachePlugin?: ICachePlugin): ConfidentialClientApplication {
  const authority = `${app.authorityHost}/${tenantId}`;
  const host = new URL(app.authorityHost).host;
  const configuration: Configuration = {
    auth: {
      clientId: app.clientId,
      authority,
      ...app.credential,
      knownAuthorities: [host],
      cloudDiscoveryMetadata: JSON.stringify({
        tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      }),
      authorityMetadata: JSON.stringify(authorityMetadata(authority)),
    },
    system: { networkClient: network },
    ...(cachePlugin ? { cache: { cachePlugin } } : {}),
  };
  return new ConfidentialClientApplication(configuration);
}

function authorityMetadata(authority: string): Record<string, unknown> {
  return {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'oid'],
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
  };
}
