/** Inputs and shapes shared by the Teams tools. */
import * as z from 'zod';
import { UNTRUSTED_NOTE, bodyText, textField } from '../shapes';

export const TeamIdSchema = z.string().trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a team id (GUID) from list_joined_teams');

/** Channel and chat ids look like `19:abc…@thread.tacv2` or `19:…@unq.gbl.spaces`. */
export const ThreadIdSchema = z.string().trim().regex(/^19:[A-Za-z0-9_.\-]{1,200}@[a-z0-9.]{1,40}$/, 'a channel or chat id such as 19:…@thread.tacv2');

export const ChatMessageSchema = z.object({
  id: z.string(),
  from: z.string().nullable().describe('Sender display name'),
  sent: z.string().nullable(),
  text: z.string().describe('Message text (untrusted content)'),
  replies: z.number().int().optional(),
});

export const MAX_MESSAGE_CHARS = 4_000;

export function shapeChatMessage(message: Record<string, unknown>): z.infer<typeof ChatMessageSchema> {
  const user = ((message.from as Record<string, unknown> | null | undefined)?.user ?? {}) as Record<string, unknown>;
  const text = bodyText(message.body);
  return {
    id: String(message.id ?? ''),
    from: textField(user, 'displayName'),
    sent: textField(message, 'createdDateTime'),
    text: text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}… [truncated]` : text,
  };
}

/** System events (members added, calls…) carry no text the model needs. */
export function isUserMessage(message: Record<string, unknown>): boolean {
  return message.messageType === undefined || message.messageType === 'message';
}

/** Output of the tools that read a channel or chat. */
export const ThreadMessagesOutput = { messages: z.array(ChatMessageSchema), untrustedContent: z.string() };

/** The user messages of a Graph chatMessage page, as text, marked untrusted. */
export function threadMessages(response: { value?: Array<Record<string, unknown>> }, limit: number) {
  return { messages: (response.value ?? []).filter(isUserMessage).slice(0, limit).map(shapeChatMessage), untrustedContent: UNTRUSTED_NOTE };
}
