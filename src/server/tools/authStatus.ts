import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { adminConsentedScopes } from '../../shared/adminConsent';
import { toolDeclaration } from '../../shared/toolCatalogue';
import { ToolDeps, runTool, toolSuccess } from './toolContext';

const TOOL = toolDeclaration('auth_status');

const StatusOutput = {
  signedIn: z.boolean().describe('Whether the user is signed in to the Entra MCP Broker'),
  account: z.string().nullable().describe('Signed-in account (usually the UPN)'),
  tenantId: z.string().nullable().describe('Directory (tenant) id of the account\'s tokens'),
  tenant: z.string().describe('Configured tenant (id, domain, organizations or common)'),
  cloud: z.string().describe('Microsoft cloud in use'),
  grantedScopes: z.array(z.string()).describe('Permissions this extension currently holds tokens for'),
  adminConsentedScopes: z.array(z.string()).describe('The granted permissions that needed an administrator\'s consent for the organization'),
  graphEndpoint: z.string().describe('Microsoft Graph endpoint the tools call'),
};

export function registerAuthStatusTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Microsoft sign-in status',
    description: 'Tells whether the user is signed in to Microsoft for these tools: account, tenant, cloud and the permissions granted so far. ' +
      'Use it when a Microsoft 365 tool reports a sign-in or permission problem. Never returns a token.',
    inputSchema: {},
    outputSchema: StatusOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, () => runTool(async () => {
    const status = await deps.tokens.status(TOOL.name);
    return toolSuccess({
      signedIn: status.signedIn,
      account: status.account ?? null,
      tenantId: status.tenantId ?? null,
      tenant: status.tenant,
      cloud: status.cloud,
      grantedScopes: status.grantedScopes,
      adminConsentedScopes: adminConsentedScopes(status.grantedScopes),
      graphEndpoint: deps.graph.endpoint,
    });
  }));
}
