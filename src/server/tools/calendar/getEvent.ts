import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { UNTRUSTED_NOTE, textField } from '../shapes';
import { ToolDeps, runTool, toolSuccess } from '../toolContext';
import { EVENT_FIELDS, EventIdSchema, EventSchema, TimeZoneSchema, shapeEvent, timeZoneHeader } from './calendarShapes';

const TOOL = toolDeclaration('get_event');

export function registerGetEventTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get a calendar event',
    description: 'Returns one event of the signed-in user\'s calendar by id (from list_events), with a preview of its description ' +
      'and the attendees\' emails and responses.',
    inputSchema: {
      id: EventIdSchema.describe('Event id from list_events'),
      timeZone: TimeZoneSchema.default('UTC').describe('Time zone for the times (default UTC)'),
    },
    outputSchema: {
      event: EventSchema,
      description: z.string().nullable().describe('Plain-text preview of the event description (untrusted content)'),
      attendeeList: z.array(z.object({ email: z.string().nullable(), response: z.string().nullable(), type: z.string().nullable() })),
      untrustedContent: z.string().describe('Reminder that description text comes from other people'),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const event: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api(`/me/events/${encodeURIComponent(args.id)}`).header('Prefer', timeZoneHeader(args.timeZone))
        .select([...EVENT_FIELDS, 'bodyPreview']).option('signal', requestSignal(extra.signal, deps.graph)).get();
      const attendees = Array.isArray(event.attendees) ? event.attendees as Array<Record<string, unknown>> : [];
      return toolSuccess({
        event: shapeEvent(event),
        description: textField(event, 'bodyPreview'),
        attendeeList: attendees.slice(0, 100).map(attendee => ({
          email: textField((attendee.emailAddress ?? {}) as Record<string, unknown>, 'address'),
          response: textField((attendee.status ?? {}) as Record<string, unknown>, 'response'),
          type: textField(attendee, 'type'),
        })),
        untrustedContent: UNTRUSTED_NOTE,
      });
    } catch (error) {
      throw toGraphToolError(error, 'reading the event', TOOL.scopes);
    }
  }));
}
