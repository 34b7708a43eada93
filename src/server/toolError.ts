import { CodedError, isCodedError } from '../shared/codedError';

/**
 * Errors a tool turns into an `isError` result. The message is for the person reading the
 * chat: it says what went wrong and what to do next, and never holds a token.
 */
export type ToolErrorCode =
  | 'NotSignedIn' | 'ScopeNotAllowed' | 'TokenUnavailable' | 'Timeout' | 'InvalidParams'
  | 'BrokerUnavailable' | 'InvalidArgument' | 'GraphError' | 'NetworkError' | 'Cancelled' | 'RemoteError';

export class ToolError extends CodedError<ToolErrorCode> {
  constructor(code: ToolErrorCode, message: string) {
    super('ToolError', code, message);
  }
}

export function isToolError(value: unknown): value is ToolError {
  return isCodedError(value, 'ToolError');
}

/** JWT-shaped strings (header.payload.signature, base64url) and bearer values. */
const JWT_SHAPED = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;
const BEARER_VALUE = /\b(Bearer)\s+[^\s"',;]+/gi;

/**
 * Text from outside (Graph's error codes and messages, network causes) with anything shaped
 * like a token removed, so no token text reaches a tool result or a log.
 */
export function scrubSecrets(text: string): string {
  return text.replace(JWT_SHAPED, '[token removed]').replace(BEARER_VALUE, '$1 [removed]');
}
