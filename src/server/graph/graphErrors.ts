/**
 * Turns whatever a Graph call threw into a ToolError whose message tells the person what to
 * do. Graph's own error code and message are kept (they are what support will ask for).
 */
import { GraphError } from '@microsoft/microsoft-graph-client';
import { SIGN_IN_HINT } from '../../shared/protocol';
import { ToolError, isToolError } from '../toolError';

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
  if (error instanceof GraphError && error.statusCode > 0) {
    return fromGraphStatus(error, what, scopes);
  }
  const cause = networkCause(error);
  return new ToolError('NetworkError', `Could not reach Microsoft Graph for ${what}${cause ? ` (${cause})` : ''}. ` +
    'Check your network or proxy settings, and the setting entraMcp.graphEndpoint if you changed it.');
}

function fromGraphStatus(error: GraphError, what: string, scopes: readonly string[]): ToolError {
  const graphSays = `${error.code ?? `HTTP ${error.statusCode}`}: ${oneLine(error.message)}`;
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
  return cause?.code ?? cause?.message ?? (error instanceof Error ? oneLine(error.message) : undefined);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
