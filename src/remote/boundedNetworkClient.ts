/**
 * MSAL's network module with a deadline on every call: msal-node's own client sets none on its
 * POSTs, so a hung Entra endpoint would hold a tool call (and its HTTP request) forever. It goes
 * out as the tools' Graph calls do (httpsFetch: kept-alive, through the environment's proxy).
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { httpsFetch } from '../server/graph/httpsFetch';

export const ENTRA_REQUEST_TIMEOUT_MS = 10_000;

export class BoundedNetworkClient implements INetworkModule {
  constructor(private readonly timeoutMs = ENTRA_REQUEST_TIMEOUT_MS) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(url: string, method: 'GET' | 'POST', options: NetworkRequestOptions = {}, timeout?: number): Promise<NetworkResponse<T>> {
    const response = await httpsFetch(url, {
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
