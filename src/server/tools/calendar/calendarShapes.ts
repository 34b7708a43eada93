/** Inputs and shapes shared by the calendar tools. */
import * as z from 'zod';
import { textField } from '../shapes';

export const DateTimeSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$/,
  'an ISO 8601 date-time such as 2026-11-23T09:00:00');

/** IANA (`Europe/Paris`) or Windows (`Pacific Standard Time`) time zone names. */
export const TimeZoneSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_+\-/ ()]{0,63}$/, 'a time zone name such as Europe/Paris or Pacific Standard Time');

export const EventIdSchema = z.string().regex(/^[A-Za-z0-9=_+/-]{8,512}$/, 'an event id returned by list_events');

export const EVENT_FIELDS = ['id', 'subject', 'start', 'end', 'isAllDay', 'location', 'organizer', 'isOnlineMeeting', 'onlineMeeting', 'showAs', 'attendees', 'webLink'];

export const EventSchema = z.object({
  id: z.string(),
  subject: z.string().nullable(),
  start: z.string().nullable().describe('Start, in timeZone'),
  end: z.string().nullable().describe('End, in timeZone'),
  timeZone: z.string().nullable(),
  isAllDay: z.boolean(),
  location: z.string().nullable(),
  organizer: z.string().nullable().describe('Organizer email'),
  attendees: z.number().int().describe('Number of attendees'),
  joinUrl: z.string().nullable().describe('Online meeting join link'),
  showAs: z.string().nullable(),
  webLink: z.string().nullable(),
});
export type ShapedEvent = z.infer<typeof EventSchema>;

type Record_ = Record<string, unknown>;

export function shapeEvent(event: Record_): ShapedEvent {
  const start = (event.start ?? {}) as Record_;
  const end = (event.end ?? {}) as Record_;
  const organizer = ((event.organizer as Record_ | undefined)?.emailAddress ?? {}) as Record_;
  return {
    id: String(event.id ?? ''),
    subject: textField(event, 'subject'),
    start: textField(start, 'dateTime'),
    end: textField(end, 'dateTime'),
    timeZone: textField(start, 'timeZone'),
    isAllDay: event.isAllDay === true,
    location: textField((event.location ?? {}) as Record_, 'displayName') || null,
    organizer: textField(organizer, 'address'),
    attendees: Array.isArray(event.attendees) ? event.attendees.length : 0,
    joinUrl: textField((event.onlineMeeting ?? {}) as Record_, 'joinUrl'),
    showAs: textField(event, 'showAs'),
    webLink: textField(event, 'webLink'),
  };
}

/** Graph wants `Prefer: outlook.timezone` to return times in the user's zone rather than UTC. */
export function timeZoneHeader(timeZone: string): string {
  return `outlook.timezone="${timeZone}"`;
}
