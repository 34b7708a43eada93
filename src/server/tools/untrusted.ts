/**
 * The untrusted-content marker every tool result carrying text from outside (mail, events, chats,
 * file and folder names, team, channel, group and task names, people's directory fields, anything
 * Graph or ARM returns) includes, so a model reads that text as data, never as instructions.
 */
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { UNTRUSTED_NOTE } from './shapes';
import { toolSuccess } from './toolContext';

export const UntrustedOutput = {
  untrustedContent: z.string().describe('Reminder that text in this result was written by other people'),
};

/** `result` with the marker added. */
export function markedUntrusted<T extends Record<string, unknown>>(result: T): T & { untrustedContent: string } {
  return { ...result, untrustedContent: UNTRUSTED_NOTE };
}

/** A successful tool result carrying the marker. */
export function untrustedSuccess<T extends Record<string, unknown>>(structured: T): CallToolResult {
  return toolSuccess(markedUntrusted(structured));
}
