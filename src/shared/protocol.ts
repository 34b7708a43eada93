/**
 * The broker protocol: JSON-RPC 2.0 over a local socket, framed by vscode-jsonrpc
 * (`Content-Length` headers). The extension host listens; the MCP server connects.
 * Documented for people in docs/broker-protocol.md; keep the two in step.
 */
import { RequestType } from 'vscode-jsonrpc';
// zod's tree-shakable build: the extension host loads this at activation, so size matters.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';

// The mini build carries no messages of its own; ours go back to the server, and into the log.
z.config(en());

export const PROTOCOL_VERSION = 1;

/** Limits the broker enforces on every connection. */
export const BROKER_LIMITS = {
  /** Largest frame (headers + body) accepted; a token request is a few hundred bytes. */
  maxFrameBytes: 64 * 1024,
  /** Concurrent authenticated connections; one MCP server uses one. */
  maxConnections: 16,
  /**
   * Connections still waiting for their handshake. When full, the oldest is closed to make room,
   * so idle or drip-feeding peers without the secret can never lock the real server out.
   */
  maxUnauthenticatedConnections: 8,
  /** Time a new connection has to complete its handshake, counted from accept (bytes trickling in do not extend it). */
  handshakeTimeoutMs: 5_000,
  /** Longest a token request may take, including an interactive sign-in the user must finish. */
  requestTimeoutMs: 5 * 60_000,
  /** Requests in flight on one connection. */
  maxPendingRequests: 64,
  maxScopesPerRequest: 20,
  maxClaimsLength: 16 * 1024,
} as const;

const toolName = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, 'a snake_case tool name'));

// ── broker/hello: server → extension, the first message of every connection ──
export const HelloParamsSchema = z.strictObject({
  /** The per-launch secret from ENTRA_MCP_BROKER_SECRET. */
  secret: z.string().check(z.minLength(1), z.maxLength(512)),
  protocolVersion: z.int(),
  client: z.object({ name: z.string().check(z.maxLength(100)), version: z.string().check(z.maxLength(50)), pid: z.int() }),
});
export type HelloParams = z.infer<typeof HelloParamsSchema>;
export interface HelloResult {
  protocolVersion: number;
  extensionVersion: string;
}
export const HelloRequest = new RequestType<HelloParams, HelloResult, void>('broker/hello');

// ── broker/getToken: server → extension, an access token for one tool call ──
export const GetTokenParamsSchema = z.strictObject({
  /** The tool the token is for: audited, and its catalogue entry bounds the scopes. */
  tool: toolName,
  scopes: z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.minLength(1), z.maxLength(BROKER_LIMITS.maxScopesPerRequest)),
  /** A claims challenge from a `WWW-Authenticate: … insufficient_claims` response, raw header value. */
  wwwAuthenticate: z.optional(z.string().check(z.maxLength(BROKER_LIMITS.maxClaimsLength))),
  /** Graph rejected the last token (401): fetch one past the cache instead of serving it again. */
  forceRefresh: z.optional(z.boolean()),
});
export type GetTokenParams = z.infer<typeof GetTokenParamsSchema>;
export interface GetTokenResult {
  accessToken: string;
  /** Expiry, milliseconds since the epoch. */
  expiresOn: number;
  /** The signed-in account's label (usually the UPN). */
  account: string;
  /** Directory (tenant) id the token was issued by. */
  tenantId: string;
}
export const GetTokenRequest = new RequestType<GetTokenParams, GetTokenResult, void>('broker/getToken');

// ── broker/getRemoteToken: bridge → extension, a token for one of the user's remote MCP servers ──
/**
 * The bridge names the server by its URL only. The extension looks the URL up among the user's
 * `entraMcp.remoteServers` and uses the scope *it* discovered from that server's metadata: the
 * bridge can never choose a scope, so a token for Graph or another API is never sent there.
 */
export const GetRemoteTokenParamsSchema = z.strictObject({
  /** The remote MCP endpoint, exactly as configured. */
  server: z.string().check(z.minLength(1), z.maxLength(2048)),
  /** A claims challenge from the remote server's 401, raw header value. */
  wwwAuthenticate: z.optional(z.string().check(z.maxLength(BROKER_LIMITS.maxClaimsLength))),
  /** The remote server rejected the last token (401): fetch one past the cache. */
  forceRefresh: z.optional(z.boolean()),
});
export type GetRemoteTokenParams = z.infer<typeof GetRemoteTokenParamsSchema>;
export const GetRemoteTokenRequest = new RequestType<GetRemoteTokenParams, GetTokenResult, void>('broker/getRemoteToken');

// ── broker/remoteOutcome: bridge → extension, how the last exchange with a remote server went (for Show Status) ──
export const RemoteOutcomeParamsSchema = z.strictObject({
  server: z.string().check(z.minLength(1), z.maxLength(2048)),
  ok: z.boolean(),
  /** Why it failed, written for people (never a token or a server's raw body). */
  message: z.optional(z.string().check(z.maxLength(1000))),
});
export type RemoteOutcomeParams = z.infer<typeof RemoteOutcomeParamsSchema>;
export const RemoteOutcomeRequest = new RequestType<RemoteOutcomeParams, void, void>('broker/remoteOutcome');

// ── broker/status: server → extension, who is signed in (no token) ──
export const StatusParamsSchema = z.strictObject({ tool: toolName });
export type StatusParams = z.infer<typeof StatusParamsSchema>;
export interface StatusResult {
  signedIn: boolean;
  account?: string;
  tenantId?: string;
  /** The configured tenant (id, domain, `organizations` or `common`). */
  tenant: string;
  cloud: string;
  /** Scopes of tokens this extension currently holds for the account. */
  grantedScopes: string[];
}
export const StatusRequest = new RequestType<StatusParams, StatusResult, void>('broker/status');

/**
 * Error codes in JSON-RPC error responses. `data.reason` repeats the name so the server can
 * branch on it; the message is written for the person reading the tool result.
 */
export const BrokerErrorCode = {
  NotSignedIn: -32001,
  ScopeNotAllowed: -32002,
  TokenUnavailable: -32003,
  Timeout: -32004,
  InvalidParams: -32602,
} as const;
export type BrokerErrorReason = keyof typeof BrokerErrorCode;

export interface BrokerErrorData {
  reason: BrokerErrorReason;
}

/** What a user does to sign in; repeated in every not-signed-in error. */
export const SIGN_IN_HINT = 'Run "Entra MCP: Sign In" from the Command Palette, then try again.';
