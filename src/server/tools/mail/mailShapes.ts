/** Inputs and shapes shared by the mail tools. */
import * as z from 'zod';
import { textField } from '../shapes';

export const MessageIdSchema = z.string().regex(/^[A-Za-z0-9=_+/-]{8,512}$/, 'a message id returned by list_messages');

/** Well-known folder names Graph accepts in place of an id, or a folder id from list_mail_folders. */
export const FolderSchema = z.string().regex(/^([a-z]{1,40}|[A-Za-z0-9=_+/-]{8,512})$/, 'a well-known folder name (inbox, sentitems, drafts, archive…) or a folder id');

export const EmailSchema = z.string().email().max(254);

export const MESSAGE_SUMMARY_FIELDS = ['id', 'subject', 'from', 'receivedDateTime', 'isRead', 'hasAttachments', 'importance', 'bodyPreview'];

export const MessageSummarySchema = z.object({
  id: z.string(),
  subject: z.string().nullable(),
  from: z.string().nullable().describe('Sender email'),
  received: z.string().nullable(),
  isRead: z.boolean(),
  hasAttachments: z.boolean(),
  importance: z.string().nullable(),
  preview: z.string().nullable().describe('Start of the body (untrusted content)'),
});

type Record_ = Record<string, unknown>;

export function address(recipient: unknown): string | null {
  return textField(((recipient as Record_ | undefined)?.emailAddress ?? {}) as Record_, 'address');
}

export function shapeMessageSummary(message: Record_): z.infer<typeof MessageSummarySchema> {
  return {
    id: String(message.id ?? ''),
    subject: textField(message, 'subject'),
    from: address(message.from),
    received: textField(message, 'receivedDateTime'),
    isRead: message.isRead === true,
    hasAttachments: message.hasAttachments === true,
    importance: textField(message, 'importance'),
    preview: textField(message, 'bodyPreview'),
  };
}

export function recipients(addresses: readonly string[]): Array<{ emailAddress: { address: string } }> {
  return addresses.map(entry => ({ emailAddress: { address: entry } }));
}
