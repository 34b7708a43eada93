/**
 * `entra-mcp-server` (dist/remote.js): the remote MCP server. Reads the configuration, starts,
 * and stops cleanly on SIGTERM (in-flight requests finish first).
 */
import { AuditLog } from './audit';
import { helpText, readRemoteConfig } from './config';
import { startRemoteServer } from './remoteServer';

declare const SERVER_VERSION: string;
const version = typeof SERVER_VERSION === 'string' ? SERVER_VERSION : '0.0.0-dev';

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${version}\n`);
    return;
  }
  let config;
  try {
    config = readRemoteConfig(process.env);
  } catch (error) {
    process.stderr.write(`entra-mcp-server: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const audit = new AuditLog();
  const running = await startRemoteServer(config, audit, version);
  const stop = (signal: string) => {
    audit.event('stopping', { signal });
    void running.close().then(() => audit.flush()).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch(error => {
  process.stderr.write(`entra-mcp-server: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
