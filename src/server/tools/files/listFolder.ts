import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { ToolDeps, ToolError, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { DRIVE_ITEM_FIELDS, DriveItemIdSchema, DriveItemSchema, shapeDriveItem } from './fileShapes';

const TOOL = toolDeclaration('list_folder');

export function registerListFolderTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List a OneDrive folder',
    description: 'Lists the files and folders in a folder of the signed-in user\'s OneDrive, by path ("Documents/Reports") or folder id; ' +
      'the root when neither is given.',
    inputSchema: {
      path: z.string().max(400).optional().describe('Folder path from the OneDrive root, e.g. "Documents/Reports"'),
      folderId: DriveItemIdSchema.optional().describe('Folder id from search_files or list_folder (instead of path)'),
      limit: z.number().int().min(1).max(200).default(50).describe('Maximum number of items (default 50, at most 200)'),
    },
    outputSchema: { ...UntrustedOutput, items: z.array(DriveItemSchema), hasMore: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const location = folderLocation(args.path, args.folderId);
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      const request = client.api(`${location}/children`).select(DRIVE_ITEM_FIELDS).top(Math.min(args.limit, 100));
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'items'),
      });
      return untrustedSuccess({ items: items.map(shapeDriveItem), hasMore });
    } catch (error) {
      throw toGraphToolError(error, `listing ${args.path ?? args.folderId ?? 'your OneDrive root'}`, TOOL.scopes);
    }
  }));
}

/** The Graph address of the folder: by id, by path (each segment encoded), or the root. */
export function folderLocation(path: string | undefined, folderId: string | undefined): string {
  if (path && folderId) {
    throw new ToolError('InvalidArgument', 'Give either path or folderId, not both.');
  }
  if (folderId) {
    return `/me/drive/items/${folderId}`;
  }
  const segments = (path ?? '').split('/').map(segment => segment.trim()).filter(Boolean);
  if (segments.length === 0) {
    return '/me/drive/root';
  }
  if (segments.some(segment => segment === '.' || segment === '..' || /[\u0000-\u001f:\\*?"<>|]/.test(segment))) {
    throw new ToolError('InvalidArgument', 'The path contains a segment OneDrive does not allow (".", "..", control characters or \\ : * ? " < > |).');
  }
  return `/me/drive/root:/${segments.map(encodeURIComponent).join('/')}:`;
}
