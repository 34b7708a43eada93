/**
 * The OS's trusted roots, on the runtime VS Code gives the bundled server (this host's own Node,
 * new enough for tls.getCACertificates/setDefaultCACertificates). The server's network link is
 * run in a child of that runtime with no NODE_EXTRA_CA_CERTS, against a local HTTPS server whose
 * certificate only the OS store trusts here (SSL_CERT_FILE holds the test CA): it connects, and
 * with http.systemCertificates off (ENTRA_MCP_SYSTEM_CERTIFICATES=false) it refuses the certificate.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tls from 'node:tls';
import { startLocalHttps, stopLocalHttps } from '../helpers/localHttps';

const HTTPS_SEND = join(__dirname, '..', '..', 'src', 'server', 'graph', 'httpsSend.js');
const TEST_CA = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls', 'ca.pem');
const run = promisify(execFile);

/** One GET through the server's network link, in a fresh process of this runtime; prints the status or the error code. */
async function getInChild(url: string, env: Record<string, string>): Promise<string> {
  const script = `require(${JSON.stringify(HTTPS_SEND)}).httpsSend(new URL(${JSON.stringify(url)}), {})` +
    '.then(a => { a.body.resume(); console.log("status " + a.status); }, e => console.log("error " + (e.code || e.message)))';
  const { stdout } = await run(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', ELECTRON_RUN_AS_NODE: '1', SSL_CERT_FILE: TEST_CA, NO_PROXY: '127.0.0.1', ...env },
  });
  return stdout.trim();
}

describe('the bundled server trusts the OS\'s roots, as VS Code does', () => {
  it('reaches a server only the OS store trusts, and refuses it with http.systemCertificates off', async function () {
    if (typeof (tls as { setDefaultCACertificates?: unknown }).setDefaultCACertificates !== 'function') {
      console.log(`      this host's Node ${process.version} cannot add system roots: skipped`);
      this.skip();
    }
    const server = await startLocalHttps((_request, response) => { response.writeHead(200).end('ok'); });
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0/me`;
      assert.equal(await getInChild(url, {}), 'status 200');
      assert.match(await getInChild(url, { ENTRA_MCP_SYSTEM_CERTIFICATES: 'false' }), /^error (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT)/);
    } finally {
      await stopLocalHttps(server);
    }
  });
});
