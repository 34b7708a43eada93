import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { collectPages } from '../../graph/paging';
import { ToolDeps, ToolError, progressReporter, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { DateTimeSchema, EVENT_FIELDS, EventSchema, TimeZoneSchema, shapeEvent, timeZoneHeader } from './calendarShapes';
import { ianaTimeZone, withZoneOffset } from './zonedTime';

const TOOL = toolDeclaration('list_events');
/** calendarView over a longer window is slow and rarely what was meant. */
const MAX_RANGE_DAYS = 62;

export function registerListEventsTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'List calendar events',
    description: 'Lists the signed-in user\'s calendar events (recurring ones expanded) between two date-times, in a time zone, ' +
      'ordered by start: subject, times, location, organizer, attendee count, join link. Use it for "what is on my calendar".',
    inputSchema: {
      start: DateTimeSchema.describe('Window start, ISO 8601 (e.g. 2026-11-23T00:00:00)'),
      end: DateTimeSchema.describe('Window end, ISO 8601; at most 62 days after start'),
      timeZone: TimeZoneSchema.default('UTC').describe('Time zone for the window and the results (IANA or Windows name; default UTC)'),
      limit: z.number().int().min(1).max(100).default(25).describe('Maximum number of events (default 25, at most 100)'),
    },
    outputSchema: { ...UntrustedOutput, events: z.array(EventSchema), hasMore: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    const window = zonedWindow(args.start, args.end, args.timeZone);
    checkWindow(window.start, window.end);
    const signal = requestSignal(extra.signal, deps.graph);
    try {
      const client = createGraphClient(deps.graph, TOOL.name, TOOL.scopes);
      const request = client.api('/me/calendarView')
        .query({ startDateTime: window.start, endDateTime: window.end })
        .header('Prefer', timeZoneHeader(args.timeZone))
        .select(EVENT_FIELDS).orderby('start/dateTime').top(Math.min(args.limit, 50));
      const { items, hasMore } = await collectPages(client, request, {
        limit: args.limit, signal, onProgress: progressReporter(extra, args.limit, 'events'),
      });
      return untrustedSuccess({ events: items.map(shapeEvent), hasMore });
    } catch (error) {
      throw toGraphToolError(error, 'listing your calendar', TOOL.scopes);
    }
  }));
}

/**
 * The window as instants: calendarView reads date-times without an offset as UTC (Prefer only
 * changes the zone of the answer), so a window given in the user's zone carries its offset.
 */
function zonedWindow(start: string, end: string, timeZone: string): { start: string; end: string } {
  const zone = ianaTimeZone(timeZone);
  if (!zone) {
    throw new ToolError('InvalidArgument', `Unknown time zone "${timeZone}": give an IANA name such as Europe/Paris or a Windows name such as Pacific Standard Time.`);
  }
  return { start: withZoneOffset(start, zone), end: withZoneOffset(end, zone) };
}

function checkWindow(start: string, end: string): void {
  const days = (Date.parse(end) - Date.parse(start)) / 86_400_000;
  if (!(days > 0)) {
    throw new ToolError('InvalidArgument', 'end must be after start.');
  }
  if (days > MAX_RANGE_DAYS) {
    throw new ToolError('InvalidArgument', `The window is ${Math.ceil(days)} days; ask for at most ${MAX_RANGE_DAYS} days at a time.`);
  }
}
