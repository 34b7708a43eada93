/**
 * First link of every Graph client's chain: a request may only go to the configured endpoint's
 * origin over https. Paging follows `@odata.nextLink` URLs that come from the response body;
 * this keeps a forged link from sending the request anywhere else.
 */
import { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { ToolError } from '../toolError';
import { raiseInChain } from './graphErrors';

export class HostGuard implements Middleware {
  private next: Middleware | undefined;
  private readonly origin: string;

  constructor(endpoint: string) {
    this.origin = new URL(endpoint).origin;
  }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      origin = '';
    }
    if (origin !== this.origin) {
      raiseInChain(new ToolError('InvalidArgument', `Refused a request outside Microsoft Graph (${origin || 'invalid URL'}); only ${this.origin} is called.`));
    }
    await this.next!.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
