/** The tests' local HTTPS servers (fake Graph, fake Entra ID): the test CA's certificate, loopback, a free port. */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';

const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls');

export async function startLocalHttps(handler: http.RequestListener): Promise<https.Server> {
  const server = https.createServer({
    key: readFileSync(join(TLS_DIR, 'localhost-key.pem')),
    cert: readFileSync(join(TLS_DIR, 'localhost.pem')),
  }, handler);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Closes a server and every connection it holds (kept-alive clients would otherwise keep it open). */
export async function stopLocalHttps(server: https.Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>(resolve => (server ? server.close(() => resolve()) : resolve()));
}

/** The remote server's settings to serve HTTPS with the test certificate (the one the test CA signed). */
export function tlsEnv(): Record<string, string> {
  return { ENTRA_MCP_TLS_CERT: join(TLS_DIR, 'localhost.pem'), ENTRA_MCP_TLS_KEY: join(TLS_DIR, 'localhost-key.pem') };
}
