import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerAuthStatusTool } from './authStatus';
import { registerGetMyProfileTool } from './getMyProfile';
import { registerGraphGetTool } from './graphGet';
import { ToolDeps } from './toolContext';

/** Every tool, in the order `tools/list` shows them. */
export const TOOL_REGISTRARS: ReadonlyArray<(server: McpServer, deps: ToolDeps) => void> = [
  registerGetMyProfileTool,
  registerAuthStatusTool,
  registerGraphGetTool,
];

export function registerTools(server: McpServer, deps: ToolDeps): void {
  for (const register of TOOL_REGISTRARS) {
    register(server, deps);
  }
}

export type { ToolDeps };
