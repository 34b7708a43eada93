import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('find_people');

const PersonResult = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  email: z.string().nullable().describe('Best-scored email address'),
  jobTitle: z.string().nullable(),
  department: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
});

export function registerFindPeopleTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Find people',
    description: 'Finds people relevant to the signed-in user (colleagues, frequent contacts) by name or email fragment, ' +
      'ranked by how much the user works with them. Use it to resolve "Alex" or "the finance lead" to an email address.',
    inputSchema: {
      query: z.string().trim().min(1).max(100).regex(/^[^"\r\n\t\\]*$/, 'no quotes, backslashes or line breaks')
        .describe('Name, email or part of either'),
      limit: z.number().int().min(1).max(25).default(10).describe('Maximum number of people (default 10, at most 25)'),
    },
    outputSchema: { ...UntrustedOutput, people: z.array(PersonResult) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (args, extra) => runTool(async () => {
    try {
      const response: { value?: Record<string, unknown>[] } = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me/people').query({ $search: `"${args.query}"` }).top(args.limit)
        .select(['id', 'displayName', 'scoredEmailAddresses', 'jobTitle', 'department', 'userPrincipalName'])
        .option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess({ people: (response.value ?? []).slice(0, args.limit).map(shapeRankedPerson) });
    } catch (error) {
      throw toGraphToolError(error, `finding people matching "${args.query}"`, TOOL.scopes);
    }
  }));
}

function shapeRankedPerson(person: Record<string, unknown>): z.infer<typeof PersonResult> {
  const addresses = Array.isArray(person.scoredEmailAddresses) ? person.scoredEmailAddresses as Array<{ address?: unknown }> : [];
  const email = addresses.find(entry => typeof entry.address === 'string')?.address as string | undefined;
  return {
    id: String(person.id ?? ''),
    displayName: textField(person, 'displayName'),
    email: email ?? null,
    jobTitle: textField(person, 'jobTitle'),
    department: textField(person, 'department'),
    userPrincipalName: textField(person, 'userPrincipalName'),
  };
}
