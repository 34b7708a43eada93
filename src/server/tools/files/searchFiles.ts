import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { DRIVE_ITEM_FIELDS, DriveItemSchema, shapeDriveItem } from './fileShapes';

const TOOL = toolDeclaration('search_files');

export function registerSearchFilesTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Search my files',
    description: 'Searches the signed-in user\'s OneDrive (file names, content and metadata) and returns matching files and folders ' +
      'with ids, paths, sizes and links. Use read_file with an id to read a text file.',
    inputSchema: {
      query: z.string().trim().min(1).max(200).regex(/^[^\r\n\t\\]*$/, 'no backslashes or line breaks').describe('Words to search for'),
      limit: z.number().int().min(1).max(50).default(10).describe('Maximum number of results (default 10, at most 50)'),
    },
    outputSchema: { ...UntrustedOutput, items: z.array(DriveItemSchema), hasMore: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    // The query is an OData string literal inside the path: quotes are doubled, then the whole is encoded.
    const literal = encodeURIComponent(args.query.replace(/'/g, "''"));
    try {
      const response: { value?: Array<Record<string, unknown>>; '@odata.nextLink'?: string } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api(`/me/drive/root/search(q='${literal}')`).select(DRIVE_ITEM_FIELDS).top(args.limit)
        .option('signal', requestSignal(extra.signal, deps.graph)).get();
      const items = (response.value ?? []).slice(0, args.limit).map(shapeDriveItem);
      return untrustedSuccess({ items, hasMore: typeof response['@odata.nextLink'] === 'string' });
    } catch (error) {
      throw toGraphToolError(error, `searching your files for "${args.query}"`, TOOL.scopes);
    }
  }));
}
