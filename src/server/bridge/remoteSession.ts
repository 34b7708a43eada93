/**
 * The bridge's MCP client session with the remote server: connected on first use (so VS Code
 * starting the bridge costs nothing until a tool is listed or called), and started over when a
 * request fails below MCP (the server restarted and forgot the session, the network dropped),
 * so the next call gets a working session instead of the broken one.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { SharedOpening } from '../../shared/sharedOpening';
import { isToolError } from '../toolError';
import { FetchLike } from './remoteFetch';

export interface RemoteSessionOptions {
  readonly url: string;
  readonly fetch: FetchLike;
  readonly clientVersion: string;
  /** Called when the remote server says its tool list changed. */
  readonly onToolListChanged?: () => void;
}

export class RemoteSession {
  private readonly session = new SharedOpening(() => this.connect());

  constructor(private readonly options: RemoteSessionOptions) {}

  /**
   * Runs `use` with a connected client. A failure of the connection itself (not an MCP error
   * answer, not a sign-in problem the broker reported, not the caller's cancellation) drops the session; a request the server never saw (the session was gone: 404) is
   * tried once more on a new one.
   */
  async with<T>(use: (client: Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.session.get();
      const client = await session;
      try {
        return await use(client);
      } catch (error) {
        if (signal?.aborted || error instanceof McpError || (isToolError(error) && error.code !== 'NetworkError')) {
          throw error;
        }
        this.session.forget(session);
        void client.close().catch(() => undefined);
        if (attempt === 1 && error instanceof StreamableHTTPError && error.code === 404) {
          continue;
        }
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    await this.session.take()?.then(client => client.close(), () => undefined);
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: 'entra-mcp-bridge', version: this.options.clientVersion });
    if (this.options.onToolListChanged) {
      const notify = this.options.onToolListChanged;
      client.fallbackNotificationHandler = async notification => {
        if (notification.method === 'notifications/tools/list_changed') { notify(); }
      };
    }
    const transport = new StreamableHTTPClientTransport(new URL(this.options.url), { fetch: this.options.fetch });
    await client.connect(transport);
    return client;
  }
}
