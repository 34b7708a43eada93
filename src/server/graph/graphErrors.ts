/**
 * Turns whatever a Graph call threw into a ToolError whose message tells the person what to
 * do. Graph's own error code and message are kept (they are what support will ask for).
 */
import { GraphError } from '@microsoft/microsoft-graph-client';
import { SIGN_IN_HINT } from '../../shared/protocol';
import { ToolError, isToolError, scrubSecrets } from '../toolError';

/** Longest Graph error code and message quoted in a result: enough for support, not a payload. */
const MAX_CODE_CHARS = 64;
const MAX_MESSAGE_CHARS = 300;

/**
 * The Graph client rewraps anything its middleware throws into a GraphError that keeps only the
 * message and the stack. ToolErrors raised inside the chain (from the broker, the host guard)
 * are remembered by their stack so the original, with its code and advice, comes back out.
 */
const raisedInChain = new Map<string, ToolError>();
const MAX_REMEMBERED = 64;

export function raiseInChain(error: unknown): never {
  if (isToolError(error) && error.stack) {
    raisedInChain.set(error.stack, error);
    if (raisedInChain.size > MAX_REMEMBERED) {
      raisedInChain.delete(raisedInChain.keys().next().value as string);
    }
  }
  throw error;
}

function recoverToolError(error: unknown): ToolError | undefined {
  if (isToolError(error)) {
    return error;
  }
  const stack = error instanceof Error ? error.stack : undefined;
  const original = stack ? raisedInChain.get(stack) : undefined;
  if (stack && original) {
    raisedInChain.delete(stack);
  }
  return original;
}

export function toGraphToolError(error: unknown, what: string, scopes: readonly string[]): ToolError {
  const toolError = recoverToolError(error);
  if (toolError) {
    return toolError;
  }
  if (isAbort(error)) {
    return new ToolError('Cancelled', `${what} was cancelled or timed out. Try again; if Microsoft Graph is slow, narrow the request (e.g. a smaller $top).`);
  }
  if (error instanceof GraphError && error.statusCode > 0 && !isLocalFailure(error)) {
    return fromGraphStatus(error, what, scopes);
  }
  if (isNetworkFailure(error)) {
    const cause = networkCause(error);
    return new ToolError('NetworkError', `Could not reach Microsoft Graph for ${what}${cause ? ` (${cause})` : ''}. ` +
      'Check your network or proxy settings, and the setting entraMcp.graphEndpoint if you changed it.');
  }
  return unreadableAnswer(error, what);
}

/**
 * The answer arrived but could not be used: not JSON, or nested too deeply to process. Saying
 * "could not reach" here would send the person to check a network that works.
 */
function unreadableAnswer(error: unknown, what: string): ToolError {
  const { name, message } = (error ?? {}) as { name?: string; code?: string; message?: string };
  const kind = (error as { code?: unknown })?.code ?? name;
  const detail = kind === 'RangeError' || /call stack/i.test(message ?? '')
    ? 'it is nested too deeply to process'
    : kind === 'SyntaxError' ? 'it is not valid JSON' : `${bounded(String(kind ?? 'Error'), MAX_CODE_CHARS)}: ${bounded(message ?? '', MAX_MESSAGE_CHARS)}`;
  return new ToolError('GraphError', `Microsoft Graph answered ${what}, but the answer could not be read (${detail}).`);
}

/** Thrown by our own code while reading a 2xx answer (JSON parse), not sent by Graph. */
function isLocalFailure(error: GraphError): boolean {
  return error.statusCode < 300 && (error.code === 'SyntaxError' || error.code === 'RangeError' || error.code === 'TypeError');
}

/** fetch could not deliver the request, or the connection broke (as rewrapped by the SDK, or raw). */
function isNetworkFailure(error: unknown): boolean {
  const { name, code, message, cause } = (error ?? {}) as { name?: string; code?: unknown; message?: string; cause?: unknown };
  return name === 'NetworkFailure' || code === 'NetworkFailure' || cause !== undefined || /fetch failed|ECONN|ENOTFOUND|socket|TLS|certificate/i.test(message ?? '');
}

function fromGraphStatus(error: GraphError, what: string, scopes: readonly string[]): ToolError {
  const graphSays = `${graphCode(error)}: ${bounded(error.message ?? '', MAX_MESSAGE_CHARS)}`;
  switch (error.statusCode) {
    case 400:
      return new ToolError('GraphError', `Microsoft Graph rejected ${what} as invalid (${graphSays}). Check the path and query options.`);
    case 401:
      return new ToolError('GraphError', `Microsoft Graph did not accept your sign-in for ${what} (${graphSays}). ${SIGN_IN_HINT}`);
    case 403:
      return new ToolError('GraphError', `Access denied for ${what} (${graphSays}). The permission ${scopes.join(', ')} may need consent: ` +
        'sign in again and accept it, ask your administrator to grant it, or set entraMcp.clientId to an app registration that has it.');
    case 404:
      return new ToolError('GraphError', `Not found: ${what} (${graphSays}).`);
    case 429:
    case 503:
    case 504:
      return new ToolError('GraphError', `Microsoft Graph is busy and still refused ${what} after retrying (${graphSays}). Wait a minute and try again.`);
    default:
      return new ToolError('GraphError', `Microsoft Graph failed ${what} (${graphSays}).`);
  }
}

/** An abort or timeout, also after the Graph SDK rewrapped it into a GraphError that keeps only the message. */
function isAbort(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return name === 'AbortError' || name === 'TimeoutError' || /^The operation was aborted/.test(message ?? '');
}

function networkCause(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const text = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : undefined);
  return text === undefined ? undefined : bounded(text, MAX_MESSAGE_CHARS);
}

/** Graph's error code as it documents them (letters, digits, `_`, `.`, `-`), or the HTTP status. */
function graphCode(error: GraphError): string {
  const code = typeof error.code === 'string' ? error.code : '';
  return /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : code ? bounded(code, MAX_CODE_CHARS) : `HTTP ${error.statusCode}`;
}

/** One line, token-shaped text removed, then cut to `max` characters. */
function bounded(text: string, max: number): string {
  const line = scrubSecrets(String(text).replace(/\s+/g, ' ').trim());
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
