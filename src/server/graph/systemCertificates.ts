/**
 * The operating system's trusted roots, added to Node's before the first outgoing request, as
 * VS Code itself does with `http.systemCertificates` (on by default). A corporate root that the
 * OS trusts, such as a TLS-inspecting proxy's installed by device management, is then trusted by
 * the bundled server too, where Node alone knows only its bundled roots and
 * `NODE_EXTRA_CA_CERTS`. Needs Node 22.19 or 24.5 (`tls.getCACertificates` and
 * `tls.setDefaultCACertificates`); on an older runtime nothing changes. `false` in
 * ENTRA_MCP_SYSTEM_CERTIFICATES (the extension sets it from `http.systemCertificates`) turns it off.
 */
import * as tls from 'node:tls';
import { ENV } from '../../shared/env';

export type CertificateStore = 'default' | 'system';

/** The part of `node:tls` this needs (absent on older Node). */
export interface CertificateApi {
  getCACertificates?: (store: CertificateStore) => string[];
  setDefaultCACertificates?: (certificates: string[]) => void;
}

export type SystemTrust = 'added' | 'off' | 'unsupported' | 'failed';

let outcome: SystemTrust | undefined;

/** Once per process; later calls answer what the first did. */
export function trustSystemCertificates(env: NodeJS.ProcessEnv = process.env, api: CertificateApi = tls as CertificateApi): SystemTrust {
  outcome ??= addSystemCertificates(env, api);
  return outcome;
}

export function addSystemCertificates(env: NodeJS.ProcessEnv, api: CertificateApi): SystemTrust {
  if (env[ENV.systemCertificates] === 'false') {
    return 'off';
  }
  const { getCACertificates, setDefaultCACertificates } = api;
  if (typeof getCACertificates !== 'function' || typeof setDefaultCACertificates !== 'function') {
    return 'unsupported';
  }
  try {
    // 'default' is Node's bundled roots plus NODE_EXTRA_CA_CERTS: nothing trusted before is dropped.
    setDefaultCACertificates([...new Set([...getCACertificates('default'), ...getCACertificates('system')])]);
    return 'added';
  } catch (error) {
    process.stderr.write(`[entra-mcp] the system's trusted certificates could not be added: ${error instanceof Error ? error.message : String(error)}\n`);
    return 'failed';
  }
}
