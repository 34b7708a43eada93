/** Inputs and shapes shared by the OneDrive tools. */
import * as z from 'zod';
import { textField } from '../shapes';

export const DriveItemIdSchema = z.string().regex(/^[A-Za-z0-9!_.-]{8,256}$/, 'a file or folder id returned by search_files or list_folder');

export const DRIVE_ITEM_FIELDS = ['id', 'name', 'size', 'webUrl', 'lastModifiedDateTime', 'file', 'folder', 'parentReference'];

export const DriveItemSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  kind: z.enum(['file', 'folder']),
  size: z.number().nullable().describe('Bytes'),
  mimeType: z.string().nullable(),
  modified: z.string().nullable(),
  path: z.string().nullable().describe('Folder path within the drive'),
  webUrl: z.string().nullable(),
});

export function shapeDriveItem(item: Record<string, unknown>): z.infer<typeof DriveItemSchema> {
  const parent = (item.parentReference ?? {}) as Record<string, unknown>;
  return {
    id: String(item.id ?? ''),
    name: textField(item, 'name'),
    kind: item.folder ? 'folder' : 'file',
    size: typeof item.size === 'number' ? item.size : null,
    mimeType: textField((item.file ?? {}) as Record<string, unknown>, 'mimeType'),
    modified: textField(item, 'lastModifiedDateTime'),
    path: textField(parent, 'path')?.replace(/^\/drive\/root:?/, '') || (parent.path ? '/' : null),
    webUrl: textField(item, 'webUrl'),
  };
}
