/**
 * MSAL's network module with a deadline on every call: msal-node's own client sets none on its
 * POSTs, so a hung Entra endpoint would hold a tool call (and its HTTP request) forever. It goes
 * out as the tools' Graph calls do (httpsFetch: https, kept-alive, through the environment's
 * proxy), except to a managed identity endpoint: that one is plain http on this machine by design
 * (IMDS at 169.254.169.254, App Service's IDENTITY_ENDPOINT on localhost), never behind a proxy.
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { httpsFetch } from '../server/graph/httpsFetch';

export const ENTRA_REQUEST_TIMEOUT_MS = 10_000;

export interface BoundedNetworkOptions {
  readonly timeoutMs?: number;
  /** For ManagedIdentityApplication only: its local endpoint is http, reached directly. */
  readonly managedIdentityEndpoint?: boolean;
}

export class BoundedNetworkClient implements INetworkModule {
  private readonly timeoutMs: number;
  private readonly fetch: typeof httpsFetch;

  constructor(options: BoundedNetworkOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? ENTRA_REQUEST_TIMEOUT_MS;
    this.fetch = options.managedIdentityEndpoint ? fetch : httpsFetch;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(url: string, method: 'GET' | 'POST', options: NetworkRequestOptions = {}, timeout?: number): Promise<NetworkResponse<T>> {
    const response = await this.fetch(url, {
      method,
      headers: options.headers,
      body: method === 'POST' ? options.body : undefined,
      redirect: 'error',
      signal: AbortSignal.timeout(Math.min(timeout ?? this.timeoutMs, this.timeoutMs)),
    });
    const text = await response.text();
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = { error: 'invalid_response', error_description: `Entra ID answered ${response.status} with a body that is not JSON.` };
    }
    return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: body as T };
  }
}
