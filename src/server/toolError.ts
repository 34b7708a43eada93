/**
 * Errors a tool turns into an `isError` result. The message is for the person reading the
 * chat: it says what went wrong and what to do next, and never holds a token.
 */
export type ToolErrorCode =
  | 'NotSignedIn' | 'ScopeNotAllowed' | 'TokenUnavailable' | 'Timeout' | 'InvalidParams'
  | 'BrokerUnavailable' | 'InvalidArgument' | 'GraphError' | 'NetworkError' | 'Cancelled';

const TOOL_ERROR_BRAND = Symbol.for('entraMcp.ToolError');

export class ToolError extends Error {
  readonly [TOOL_ERROR_BRAND] = true;

  constructor(readonly code: ToolErrorCode, message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

export function isToolError(value: unknown): value is ToolError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TOOL_ERROR_BRAND] === true;
}
