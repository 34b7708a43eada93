import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod';
import { toolDeclaration } from '../../../shared/toolCatalogue';
import { createGraphClient, requestSignal } from '../../graph/graphClient';
import { toGraphToolError } from '../../graph/graphErrors';
import { PERSON_FIELDS, PersonSchema, shapePerson, textField } from '../shapes';
import { ToolDeps, runTool } from '../toolContext';
import { UntrustedOutput, untrustedSuccess } from '../untrusted';

const TOOL = toolDeclaration('get_my_profile');

/** Only what a model needs to know who "me" is; Graph's full user object is much larger. */
const PROFILE_FIELDS = [...PERSON_FIELDS, 'officeLocation', 'businessPhones', 'mobilePhone', 'preferredLanguage'];

export const ProfileSchema = {
  ...PersonSchema.shape,
  officeLocation: z.string().nullable(),
  businessPhones: z.array(z.string()),
  mobilePhone: z.string().nullable(),
  preferredLanguage: z.string().nullable(),
};

export function registerGetMyProfileTool(server: McpServer, deps: ToolDeps): void {
  server.registerTool(TOOL.name, {
    title: 'Get my Microsoft 365 profile',
    description: 'Returns the signed-in user\'s Microsoft 365 profile (name, email, UPN, job title, department, office, phones). ' +
      'Use it to find out who "me" is before other Microsoft 365 requests.',
    inputSchema: {},
    outputSchema: { ...ProfileSchema, ...UntrustedOutput },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, (_args, extra) => runTool(async () => {
    try {
      const user: Record<string, unknown> = await createGraphClient(deps.graph, TOOL.name, TOOL.scopes)
        .api('/me').select(PROFILE_FIELDS).option('signal', requestSignal(extra.signal, deps.graph)).get();
      return untrustedSuccess(shapeProfile(user));
    } catch (error) {
      throw toGraphToolError(error, 'reading your profile', TOOL.scopes);
    }
  }));
}

/** A person's fields plus the profile's own, with Graph's nulls kept so the output schema holds. */
export function shapeProfile(user: Record<string, unknown>): z.infer<z.ZodObject<typeof ProfileSchema>> {
  return {
    ...shapePerson(user),
    officeLocation: textField(user, 'officeLocation'),
    businessPhones: Array.isArray(user.businessPhones) ? user.businessPhones.filter((p): p is string => typeof p === 'string') : [],
    mobilePhone: textField(user, 'mobilePhone'),
    preferredLanguage: textField(user, 'preferredLanguage'),
  };
}
