/**
 * The caller of the tool call being served. The HTTP layer validates the token and hands it to
 * the SDK as `authInfo`; the tool guard binds it here for the call's duration, so the
 * On-Behalf-Of token source finds whom it acts for without the tools knowing there are users.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { Caller } from './tokenValidator';

export interface CallContext {
  readonly caller: Caller;
  /** The caller's own token: the On-Behalf-Of assertion, sent to Entra and nowhere else. */
  readonly assertion?: string;
}

const storage = new AsyncLocalStorage<CallContext>();

export function runAs<T>(context: CallContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentCall(): CallContext | undefined {
  return storage.getStore();
}

/** What the HTTP layer gives the SDK for a validated caller. */
export function toAuthInfo(caller: Caller, assertion: string, clientId: string, resource: URL): AuthInfo {
  return { token: assertion, clientId: caller.clientApp ?? clientId, scopes: [...caller.scopes], expiresAt: caller.expiresAt, resource, extra: { caller } };
}

/** The call context from the `authInfo` the SDK hands a handler; undefined when there is none. */
export function fromAuthInfo(authInfo: AuthInfo | undefined): CallContext | undefined {
  const caller = authInfo?.extra?.caller as Caller | undefined;
  return caller && authInfo ? { caller, assertion: authInfo.token } : undefined;
}
