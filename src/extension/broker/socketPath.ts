/**
 * Where the broker listens: a Unix socket inside a fresh 0700 directory (only this user can
 * even find it), or a random Windows named pipe. Path lengths are clamped to the OS limits.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** sockaddr_un.sun_path is 108 bytes on Linux and 104 on macOS, both including the NUL. */
const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

export interface BrokerEndpoint {
  /** What the server connects to (ENTRA_MCP_BROKER). */
  readonly path: string;
  /** Removes the socket directory; a no-op for named pipes. */
  dispose(): void;
}

export function createBrokerEndpoint(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): BrokerEndpoint {
  if (platform === 'win32') {
    return { path: `\\\\.\\pipe\\entra-mcp-${randomBytes(16).toString('hex')}`, dispose: () => {} };
  }
  const candidates = [env.XDG_RUNTIME_DIR, tmpdir(), '/tmp'].filter((dir): dir is string => !!dir);
  for (const base of candidates) {
    // mkdtemp adds six characters; the socket name adds "/b.sock".
    if (join(base, 'entra-mcp-XXXXXX', 'b.sock').length > MAX_SOCKET_PATH) {
      continue;
    }
    try {
      const dir = mkdtempSync(join(base, 'entra-mcp-'));
      chmodSync(dir, 0o700);
      return { path: join(dir, 'b.sock'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
    } catch {
      // Not writable (e.g. a stale XDG_RUNTIME_DIR): try the next place.
    }
  }
  throw new Error('No directory is available for the broker socket (tried XDG_RUNTIME_DIR and the temp folder).');
}
