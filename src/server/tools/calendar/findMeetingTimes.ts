import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, ToolError, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';
import { DateTimeSchema, TimeZoneSchema } from './calendarShapes';

const TOOL = toolDeclaration('find_meeting_times');

const SuggestionSchema = z.object({
  start: z.string().nullable(),
  end: z.string().nullable(),
  confidence: z.number().nullable().describe('0-100: how likely everyone can attend'),
  reason: z.string().nullable(),
  unavailable: z.array(z.string()).describe('Attendees who are busy or unknown then'),
});

export function registerFindMeetingTimesTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Find meeting times',
    description: 'Suggests times when the signed-in user and the given attendees are free for a meeting of a given length, ' +
      'within a window of working hours. Read-only: it books nothing (use create_event for that).',
    inputSchema: {
      attendees: z.array(z.string().email().max(254)).min(1).max(20).describe('Attendee email addresses'),
      durationMinutes: z.number().int().min(15).max(480).default(30).describe('Meeting length in minutes (default 30)'),
      windowStart: DateTimeSchema.describe('Earliest start, ISO 8601 in timeZone'),
      windowEnd: DateTimeSchema.describe('Latest end, ISO 8601 in timeZone'),
      timeZone: TimeZoneSchema.default('UTC').describe('Time zone of the window and the suggestions'),
      maxSuggestions: z.number().int().min(1).max(20).default(5),
    },
    outputSchema: { ...UntrustedOutput, suggestions: z.array(SuggestionSchema), emptyReason: z.string().nullable().describe('Why Graph found no time, when it found none') },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    if (!(Date.parse(args.windowEnd) > Date.parse(args.windowStart))) {
      throw new ToolError('InvalidArgument', 'windowEnd must be after windowStart.');
    }
    try {
      const response: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/findMeetingTimes').header('Prefer', `outlook.timezone="${args.timeZone}"`).option('signal', requestSignal(extra.signal, deps.graph))
        .post({
          attendees: args.attendees.map(address => ({ type: 'required', emailAddress: { address } })),
          timeConstraint: {
            activityDomain: 'work',
            timeSlots: [{ start: { dateTime: args.windowStart, timeZone: args.timeZone }, end: { dateTime: args.windowEnd, timeZone: args.timeZone } }],
          },
          meetingDuration: `PT${args.durationMinutes}M`,
          maxCandidates: args.maxSuggestions,
          returnSuggestionReasons: true,
        });
      const suggestions = Array.isArray(response.meetingTimeSuggestions) ? response.meetingTimeSuggestions as Array<Record<string, unknown>> : [];
      return untrustedSuccess({ suggestions: suggestions.slice(0, args.maxSuggestions).map(shapeSuggestion), emptyReason: textField(response, 'emptySuggestionsReason') || null });
    } catch (error) {
      throw toGraphToolError(error, 'finding meeting times', TOOL.scopes);
    }
  }));
}

function shapeSuggestion(suggestion: Record<string, unknown>): z.infer<typeof SuggestionSchema> {
  const slot = (suggestion.meetingTimeSlot ?? {}) as Record<string, Record<string, unknown>>;
  const availability = Array.isArray(suggestion.attendeeAvailability) ? suggestion.attendeeAvailability as Array<Record<string, unknown>> : [];
  return {
    start: textField(slot.start ?? {}, 'dateTime'),
    end: textField(slot.end ?? {}, 'dateTime'),
    confidence: typeof suggestion.confidence === 'number' ? suggestion.confidence : null,
    reason: textField(suggestion, 'suggestionReason'),
    unavailable: availability.filter(entry => entry.availability !== 'free')
      .map(entry => textField(((entry.attendee as Record<string, unknown> | undefined)?.emailAddress ?? {}) as Record<string, unknown>, 'address') ?? '')
      .filter(Boolean),
  };
}
