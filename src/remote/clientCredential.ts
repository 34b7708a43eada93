/**
 * The server's own credential towards Entra for On-Behalf-Of: a managed identity's token as a
 * federated client assertion (no secret to leak or rotate, as Microsoft recommends), a
 * certificate, or a client secret.
 */
import { X509Certificate } from 'node:crypto';
import { ManagedIdentityApplication, NodeAuthOptions } from '@azure/msal-node';
import { CloudName } from '../shared/clouds';
import { BoundedNetworkClient } from './boundedNetworkClient';
import { ClientCredentialConfig } from './config';

/** The audience of a managed identity token used as a federated credential, per cloud. */
const TOKEN_EXCHANGE_AUDIENCE: Readonly<Record<string, string>> = {
  AzureCloud: 'api://AzureADTokenExchange',
  AzureUSGovernment: 'api://AzureADTokenExchangeUSGov',
  AzureChinaCloud: 'api://AzureADTokenExchangeChina',
};

export type CredentialOptions = Pick<NodeAuthOptions, 'clientSecret' | 'clientCertificate' | 'clientAssertion'>;

export function credentialOptions(credential: ClientCredentialConfig, cloud: CloudName): CredentialOptions {
  switch (credential.kind) {
    case 'secret':
      return { clientSecret: credential.secret };
    case 'certificate':
      return { clientCertificate: certificateOptions(credential.privateKeyPem, credential.certificatePem) };
    case 'managedIdentity':
      return { clientAssertion: managedIdentityAssertion(credential.clientId, TOKEN_EXCHANGE_AUDIENCE[cloud] ?? TOKEN_EXCHANGE_AUDIENCE.AzureCloud) };
  }
}

/** MSAL signs its client assertion with the key and names the certificate by its SHA-256 thumbprint (PS256). */
function certificateOptions(privateKeyPem: string, certificatePem: string): NonNullable<NodeAuthOptions['clientCertificate']> {
  const certificate = new X509Certificate(certificatePem);
  return {
    privateKey: privateKeyPem,
    thumbprintSha256: certificate.fingerprint256.replace(/:/g, ''),
    x5c: certificatePem,
  };
}

/** A callback MSAL calls for each token request: the managed identity's current token (MSAL caches it). */
function managedIdentityAssertion(clientId: string, audience: string): () => Promise<string> {
  const identity = new ManagedIdentityApplication({
    ...(clientId === 'system' ? {} : { managedIdentityIdParams: { userAssignedClientId: clientId } }),
    system: { networkClient: new BoundedNetworkClient({ managedIdentityEndpoint: true }) },
  });
  return async () => (await identity.acquireToken({ resource: audience })).accessToken;
}
