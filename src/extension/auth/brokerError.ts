import { CodedError, isCodedError } from '../../shared/codedError';
import { BrokerErrorReason, SIGN_IN_HINT } from '../../shared/protocol';
import { redactCredentials } from '../audit';

/** An error the broker returns to the server with a stable reason and a message for people. */
export class BrokerError extends CodedError<BrokerErrorReason> {
  constructor(reason: BrokerErrorReason, message: string) {
    super('BrokerError', reason, message);
  }

  get reason(): BrokerErrorReason {
    return this.code;
  }
}

export function isBrokerError(value: unknown): value is BrokerError {
  return isCodedError(value, 'BrokerError');
}

export function notSignedInError(tool: string | undefined, why: string): BrokerError {
  const subject = tool ? `The tool "${tool}" needs you to be signed in to Microsoft.` : 'You are not signed in to Microsoft.';
  return new BrokerError('NotSignedIn', `${subject} ${why} ${SIGN_IN_HINT}`);
}

/** Entra error codes that mean consent is missing, with what the user can do about each. */
const CONSENT_ADVICE: ReadonlyArray<[RegExp, string]> = [
  [/AADSTS65001/, 'Consent has not been granted for this permission. Sign in again and accept the consent prompt, or ask your administrator to grant consent.'],
  [/AADSTS65002/, 'Your organization has not pre-authorized VS Code\'s application for this permission. Register your own app, grant it the permission, and set its client id in the setting entraMcp.clientId.'],
  [/AADSTS500011/, 'The resource is not available in your tenant. Check the setting entraMcp.tenant and the cloud you sign in to.'],
  [/AADSTS50076|AADSTS50079|AADSTS50158/, 'Your organization requires multi-factor or additional authentication. Run "Entra MCP: Sign In" and complete it.'],
  [/AADSTS90094|AADSTS90008/, 'An administrator must grant consent for this permission. Ask your administrator, or set entraMcp.clientId to an app registration that has it.'],
];

/** Turns a provider failure into an error that says what to do next. */
export function providerFailure(tool: string | undefined, scopes: readonly string[], cause: unknown): BrokerError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/did not consent|cancel/i.test(message)) {
    return notSignedInError(tool, 'The sign-in was cancelled.');
  }
  const advice = CONSENT_ADVICE.find(([pattern]) => pattern.test(message))?.[1]
    ?? 'Run "Entra MCP: Show Log" for details, then "Entra MCP: Sign In" to try again.';
  return new BrokerError('TokenUnavailable',
    `Could not get a token for ${scopes.join(', ')}: ${firstLine(message)}. ${advice}`);
}

/** The provider's message reaches the tool result: no token, secret or claims value may ride along. */
function firstLine(text: string): string {
  return redactCredentials(text.split(/\r?\n/, 1)[0]).slice(0, 300).replace(/[.\s]+$/, '');
}
