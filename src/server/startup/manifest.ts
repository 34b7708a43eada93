/**
 * The startup manifest: what the MCP SDK answers to `initialize` and `tools/list`, captured at
 * build time from the real server (dist/manifest.json). The bootstrap answers those two
 * requests from it while the SDK and the tools load, so VS Code lists the tools sooner.
 * No SDK or zod import here: the bootstrap must stay small.
 */
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestTool {
  readonly name: string;
  readonly [field: string]: unknown;
}

export interface StartupManifest {
  /** The server version the manifest was captured from; a mismatch disables the early answers. */
  readonly version: string;
  /** Protocol versions the SDK accepts, and the one it answers with otherwise. */
  readonly supportedProtocolVersions: readonly string[];
  readonly latestProtocolVersion: string;
  /** The `initialize` result without `protocolVersion`, which depends on the request. */
  readonly initializeResult: Record<string, unknown>;
  /** Every tool, write tools included, in `tools/list` order; the selection filters them. */
  readonly tools: readonly ManifestTool[];
}
