/**
 * Continuous access evaluation and conditional access: Graph may answer 401 with
 * `WWW-Authenticate: Bearer … error="insufficient_claims", claims="…"`. The handler asks the
 * broker for a token satisfying that challenge (VS Code's getSession with an
 * AuthenticationWwwAuthenticateRequest) and retries the request once, never more.
 */
import { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { setRequestHeader } from '@microsoft/microsoft-graph-client/lib/src/middleware/MiddlewareUtil';

export type ChallengeTokenSource = (wwwAuthenticate: string) => Promise<string>;

export function isClaimsChallenge(status: number | undefined, wwwAuthenticate: string | null | undefined): wwwAuthenticate is string {
  return status === 401 && !!wwwAuthenticate && /error\s*=\s*"?insufficient_claims/i.test(wwwAuthenticate) && /claims\s*=/i.test(wwwAuthenticate);
}

export class ClaimsChallengeHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(private readonly tokenForChallenge: ChallengeTokenSource) {}

  async execute(context: Context): Promise<void> {
    await this.next!.execute(context);
    const challenge = context.response?.headers.get('WWW-Authenticate');
    if (!isClaimsChallenge(context.response?.status, challenge)) {
      return;
    }
    const token = await this.tokenForChallenge(challenge);
    setRequestHeader(context.request, context.options, 'Authorization', `Bearer ${token}`);
    await this.next!.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
