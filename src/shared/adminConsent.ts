/**
 * Which delegated permissions the tools can request need an administrator's consent, from the
 * permissions data behind Microsoft Graph's documentation (microsoftgraph/microsoft-graph-devx-content,
 * permissions/new/permissions.json at 6cbd6bbd665a877560fdefbad74f3bdb5b57af88:
 * `schemes.DelegatedWork.requiresAdminConsent`). A unit test holds this table to that data and
 * fails when a tool declares a permission missing here.
 */
import { ARM_DEFAULT_SCOPE } from './toolCatalogue';

export const REQUIRES_ADMIN_CONSENT: Readonly<Record<string, boolean>> = {
  'Calendars.Read': false,
  'Calendars.Read.Shared': false,
  'Calendars.ReadWrite': false,
  'Channel.ReadBasic.All': false,
  'ChannelMessage.Read.All': true,
  'Chat.Read': false,
  'Chat.ReadBasic': false,
  'ChatMessage.Send': false,
  'Contacts.Read': false,
  'Files.Read': false,
  'Files.Read.All': false,
  'Group.ReadBasic.All': true,
  'GroupMember.Read.All': true,
  'GroupMember.ReadBasic.All': true,
  'Mail.Read': false,
  'Mail.ReadBasic': false,
  'Mail.Send': false,
  'MailboxSettings.Read': false,
  'Notes.Read': false,
  'People.Read': false,
  'Presence.Read': false,
  'Sites.Read.All': false,
  'Tasks.Read': false,
  'Tasks.ReadWrite': false,
  'Team.ReadBasic.All': false,
  'User.Read': false,
  'User.Read.All': true,
  'User.ReadBasic.All': false,
  // Azure Service Management's user_impersonation: users consent themselves; what they can then
  // do is bounded by their own Azure role assignments.
  [ARM_DEFAULT_SCOPE]: false,
};

/** Whether a permission needs admin consent; undefined when the table does not know it (e.g. a user-added scope). */
export function requiresAdminConsent(scope: string): boolean | undefined {
  const key = Object.keys(REQUIRES_ADMIN_CONSENT).find(known => known.toLowerCase() === scope.toLowerCase());
  return key === undefined ? undefined : REQUIRES_ADMIN_CONSENT[key];
}

/** The permissions of `scopes` that needed an administrator's consent. */
export function adminConsentedScopes(scopes: readonly string[]): string[] {
  return scopes.filter(scope => requiresAdminConsent(scope) === true);
}
