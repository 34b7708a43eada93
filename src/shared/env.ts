/** Environment variables the extension passes to the MCP server (and a developer sets by hand). */
export const ENV = {
  /** Unix socket path or Windows named pipe of the broker. */
  broker: 'ENTRA_MCP_BROKER',
  /** Per-launch random secret (hex, ≥ 32 bytes) the server presents in its handshake. */
  brokerSecret: 'ENTRA_MCP_BROKER_SECRET',
  /** Microsoft Graph base URL, e.g. https://graph.microsoft.com. */
  graphEndpoint: 'ENTRA_MCP_GRAPH_ENDPOINT',
  /** Azure Resource Manager base URL, e.g. https://management.azure.com. */
  armEndpoint: 'ENTRA_MCP_ARM_ENDPOINT',
  /** `true` lists write tools (entraMcp.allowWrites). */
  allowWrites: 'ENTRA_MCP_ALLOW_WRITES',
  /** Comma-separated tool names or `*` patterns to list (entraMcp.enabledTools); empty lists all. */
  enabledTools: 'ENTRA_MCP_ENABLED_TOOLS',
  /** Directory for the V8 compile cache of the server bundle (the extension's global storage). */
  compileCache: 'ENTRA_MCP_COMPILE_CACHE',
  /** Bridge mode: the remote MCP endpoint (one of entraMcp.remoteServers) this server forwards to. */
  remoteUrl: 'ENTRA_MCP_REMOTE_URL',
  /** Bridge mode: the name the bridge gives itself (VS Code prefixes its tools with it). */
  remoteName: 'ENTRA_MCP_REMOTE_NAME',
  /** `false` keeps the OS's trusted roots out (VS Code's http.systemCertificates); otherwise they are added. */
  systemCertificates: 'ENTRA_MCP_SYSTEM_CERTIFICATES',
  /** A digest of VS Code's proxy settings (never the settings): changes restart the server. */
  proxyFingerprint: 'ENTRA_MCP_PROXY_FINGERPRINT',
  /** The Proxy-Authorization value for the proxy's CONNECT (VS Code's http.proxyAuthorization); never sent to a service. */
  proxyAuthorization: 'ENTRA_MCP_PROXY_AUTHORIZATION',
} as const;
