import { CodedError, isCodedError } from '../shared/codedError';

/**
 * Errors a tool turns into an `isError` result. The message is for the person reading the
 * chat: it says what went wrong and what to do next, and never holds a token.
 */
export type ToolErrorCode =
  | 'NotSignedIn' | 'ScopeNotAllowed' | 'TokenUnavailable' | 'Timeout' | 'InvalidParams'
  | 'BrokerUnavailable' | 'InvalidArgument' | 'GraphError' | 'NetworkError' | 'Cancelled';

export class ToolError extends CodedError<ToolErrorCode> {
  constructor(code: ToolErrorCode, message: string) {
    super('ToolError', code, message);
  }
}

export function isToolError(value: unknown): value is ToolError {
  return isCodedError(value, 'ToolError');
}
