import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { ToolDeps, ToolError, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { DateTimeSchema, EVENT_FIELDS, EventSchema, TimeZoneSchema, shapeEvent } from './calendarShapes';

const TOOL = toolDeclaration('create_event');
const Email = z.string().email().max(254);

export function registerCreateEventTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Create a calendar event',
    description: 'Creates an event in the signed-in user\'s calendar and, when attendees are given, sends them invitations. ' +
      'Only call it when the user asked for the meeting; VS Code asks them to confirm.',
    inputSchema: {
      subject: z.string().trim().min(1).max(255).describe('Event title'),
      start: DateTimeSchema.describe('Start, ISO 8601 local time in timeZone'),
      end: DateTimeSchema.describe('End, ISO 8601 local time in timeZone'),
      timeZone: TimeZoneSchema.default('UTC').describe('Time zone of start and end'),
      attendees: z.array(Email).max(50).default([]).describe('Attendee email addresses (invitations are sent)'),
      location: z.string().max(255).optional().describe('Location name'),
      body: z.string().max(20_000).optional().describe('Description, plain text'),
      isOnlineMeeting: z.boolean().default(false).describe('Create a Teams meeting link'),
    },
    outputSchema: { ...UntrustedOutput, event: EventSchema },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    if (!(Date.parse(args.end) > Date.parse(args.start))) {
      throw new ToolError('InvalidArgument', 'end must be after start.');
    }
    const payload = {
      subject: args.subject,
      start: { dateTime: args.start, timeZone: args.timeZone },
      end: { dateTime: args.end, timeZone: args.timeZone },
      attendees: args.attendees.map(address => ({ emailAddress: { address }, type: 'required' })),
      ...(args.location ? { location: { displayName: args.location } } : {}),
      ...(args.body ? { body: { contentType: 'text', content: args.body } } : {}),
      ...(args.isOnlineMeeting ? { isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' } : {}),
    };
    try {
      const created: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes, { nonIdempotent: true })
        .api('/me/events').select(EVENT_FIELDS).option('signal', requestSignal(extra.signal, deps.graph)).post(payload);
      return untrustedSuccess({ event: shapeEvent(created) });
    } catch (error) {
      throw toGraphToolError(error, 'creating the event', TOOL.scopes);
    }
  }));
}
