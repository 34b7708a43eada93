/**
 * The one MCP server the remote front door serves every user from: the same `createServer()`
 * and tools as the stdio server, with a guard that checks the caller's app roles and binds the
 * caller for the On-Behalf-Of token source, and a `tools/list` that shows each caller only the
 * tools their roles allow (from a list converted to JSON Schema once, at start-up).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResult, ListToolsRequestSchema, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolSelection } from '../shared/toolCatalogue';
import { TokenSource } from '../server/brokerClient';
import { createServer } from '../server/createServer';
import { ToolExtra, ToolGuard } from '../server/tools/toolContext';
import { fromAuthInfo, runAs } from './callerContext';
import { ToolAccess } from './rbac';
import { StatelessMux } from './statelessMux';

export interface RemoteMcpOptions {
  readonly tokens: TokenSource;
  readonly graphEndpoint: string;
  readonly armEndpoint: string;
  readonly selection: ToolSelection;
  readonly access: ToolAccess;
  readonly version: string;
}

export interface RemoteMcp {
  readonly server: McpServer;
  readonly mux: StatelessMux;
  /** Every served tool's name, in list order. */
  readonly toolNames: readonly string[];
  /** Every served tool as `tools/list` describes it. */
  readonly tools: readonly Tool[];
}

export async function createRemoteMcp(options: RemoteMcpOptions): Promise<RemoteMcp> {
  const { tokens, access } = options;
  const server = createServer({
    tokens, graph: { endpoint: options.graphEndpoint, tokens }, armEndpoint: options.armEndpoint, guard: roleGuard(access),
  }, options.version, options.selection);
  const tools = await listOnce(server);
  server.server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
    const roles = fromAuthInfo(extra.authInfo)?.caller.roles ?? [];
    return { tools: tools.filter(tool => access.allows(roles, tool.name)) };
  });
  const mux = new StatelessMux();
  await server.connect(mux);
  return { server, mux, toolNames: tools.map(tool => tool.name), tools };
}

/** Refuses a tool the caller's roles do not grant, naming the role to ask for; otherwise runs it as the caller. */
function roleGuard(access: ToolAccess): ToolGuard {
  return async (tool: string, extra: ToolExtra, call: () => Promise<CallToolResult>) => {
    const context = fromAuthInfo(extra.authInfo);
    if (!context) {
      return refusal('This request carries no validated caller; the server serves only signed-in users.');
    }
    if (!access.allows(context.caller.roles, tool)) {
      const roles = access.rolesGranting(tool);
      return refusal(`You may not use ${tool}: it needs the app role ${roles.join(' or ') || '(none grants it)'} on this server's ` +
        'app registration. Ask an administrator to assign it to you (Enterprise applications → Users and groups).');
    }
    return runAs(context, call);
  };
}

function refusal(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** The server's full tool list with JSON Schemas, converted once through a real client. */
async function listOnce(server: McpServer): Promise<Tool[]> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'entra-mcp-remote-startup', version: '1' });
  await server.connect(serverSide);
  await client.connect(clientSide);
  const { tools } = await client.listTools();
  await client.close();
  await server.close();
  return tools;
}
