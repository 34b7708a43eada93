import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { GraphPathError, validateGraphPath } from '../../graph/graphPath';
import { shapeGraphResponse } from '../../graph/shapeResponse';
import { ToolDeps, ToolError, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { createArmClient } from './armAccess';

const TOOL = toolDeclaration('arm_get');
const ARM_ROOTS = ['subscriptions', 'providers', 'tenants'];

export function registerArmGetTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Read from Azure Resource Manager',
    description: 'Read-only GET of an Azure Resource Manager resource by relative path (starting with /subscriptions, /providers or /tenants) ' +
      'and api-version. Use it when no more specific Azure tool fits.',
    inputSchema: {
      path: z.string().min(1).max(1024).describe('ARM path, e.g. /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}'),
      apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'an api-version such as 2023-01-01').describe('The resource provider\'s api-version'),
    },
    outputSchema: {
      ...UntrustedOutput,
      kind: z.enum(['collection', 'entity']),
      items: z.array(z.record(z.string(), z.unknown())).optional(),
      item: z.record(z.string(), z.unknown()).optional(),
      hasMore: z.boolean().optional(),
      note: z.string().optional(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const path = checkedArmPath(args.path);
    try {
      const body: Record<string, unknown> = await createArmClient(deps, TOOL.name, TOOL.scopes).api(path)
        .query({ 'api-version': args.apiVersion }).option('signal', requestSignal(extra.signal, deps.graph)).get();
      // ARM pages with nextLink; report it as "more" the way Graph collections are.
      const shaped = shapeGraphResponse(typeof body.nextLink === 'string' ? { ...body, '@odata.nextLink': body.nextLink } : body);
      return untrustedSuccess(shaped.kind === 'entity' ? { ...shaped, item: withoutNextLink(shaped.item) } : shaped);
    } catch (error) {
      throw toGraphToolError(error, `GET ${path}`, TOOL.scopes);
    }
  }));
}

function checkedArmPath(path: string): string {
  try {
    const valid = validateGraphPath(path, 'Azure Resource Manager');
    if (!ARM_ROOTS.includes(valid.split('/')[1].toLowerCase())) {
      throw new GraphPathError('ARM paths start with /subscriptions, /providers or /tenants.');
    }
    return valid;
  } catch (error) {
    if (error instanceof GraphPathError) {
      throw new ToolError('InvalidArgument', `arm_get refused the path: ${error.message}`);
    }
    throw error;
  }
}

function withoutNextLink(item: Record<string, unknown>): Record<string, unknown> {
  const { nextLink: _ignored, ...rest } = item;
  return rest;
}
