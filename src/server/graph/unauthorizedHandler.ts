/**
 * One second chance after a 401, never more:
 * - a claims challenge (`WWW-Authenticate: Bearer … error="insufficient_claims", claims="…"`, from
 *   continuous access evaluation or conditional access) gets a token for that challenge through
 *   the broker (VS Code's getSession with an AuthenticationWwwAuthenticateRequest);
 * - any other 401 (typically InvalidAuthenticationToken: the token expired or was revoked
 *   between acquisition and use) gets a token fetched fresh, bypassing the broker's cache.
 */
import { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { setRequestHeader } from '@microsoft/microsoft-graph-client/lib/src/middleware/MiddlewareUtil';

export interface SecondChance {
  /** A claims challenge to satisfy, or nothing for a plain refresh. */
  readonly wwwAuthenticate?: string;
}

export type RetryTokenSource = (request: SecondChance) => Promise<string>;

export function isClaimsChallenge(status: number | undefined, wwwAuthenticate: string | null | undefined): wwwAuthenticate is string {
  return status === 401 && !!wwwAuthenticate && /error\s*=\s*"?insufficient_claims/i.test(wwwAuthenticate) && /claims\s*=/i.test(wwwAuthenticate);
}

export class UnauthorizedHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly tokenForRetry: RetryTokenSource) {}

  async execute(context: Context): Promise<void> {
    await this.next!.execute(context);
    if (context.response?.status !== 401) {
      return;
    }
    const challenge = context.response.headers.get('WWW-Authenticate');
    const token = await this.tokenForRetry(isClaimsChallenge(401, challenge) ? { wwwAuthenticate: challenge } : {});
    setRequestHeader(context.request, context.options, 'Authorization', `Bearer ${token}`);
    await this.next!.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
