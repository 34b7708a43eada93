import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerAuthStatusTool } from './authStatus';
import { registerGetMyManagerTool } from './me/getMyManager';
import { registerGetMyProfileTool } from './me/getMyProfile';
import { registerListMyGroupsTool } from './me/listMyGroups';
import { registerGraphGetTool } from './graphGet';
import { ToolDeps } from './toolContext';

/** Every tool, in the order `tools/list` shows them. */
export const TOOL_REGISTRARS: ReadonlyArray<(server: McpServer, deps: ToolDeps) => void> = [
  registerGetMyProfileTool,
  registerGetMyManagerTool,
  registerListMyGroupsTool,
  registerAuthStatusTool,
  registerGraphGetTool,
];

export function registerTools(server: McpServer, deps: ToolDeps): void {
  for (const register of TOOL_REGISTRARS) {
    register(server, deps);
  }
}

export type { ToolDeps };
