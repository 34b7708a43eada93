import { ENV } from './env';
import { wildcardMatches } from './wildcard';

/**
 * The catalogue of the server's tools and the delegated scopes each may ask the broker for.
 * Both sides import it: the server takes each tool's scopes from here, and the broker derives
 * its scope allow-list from it, so a tool cannot obtain a token the catalogue does not declare.
 */
export interface ToolScopeDeclaration {
  /** Tool name as MCP lists it (VS Code shows it as `mcp_entra_<name>`). */
  readonly name: string;
  /** Scopes the tool asks for by default. */
  readonly scopes: readonly string[];
  /** Further scopes the tool may ask for when its arguments need them (read-only ones only). */
  readonly optionalScopes?: readonly string[];
  /** False for tools that change data: they are listed only when the user allows writes. */
  readonly readOnly: boolean;
}

/** Read-only Graph scopes `graph_get` may request when the path needs more than `User.Read`. */
export const GRAPH_GET_READ_SCOPES = [
  'User.ReadBasic.All', 'People.Read', 'Calendars.Read', 'Mail.Read', 'MailboxSettings.Read',
  'Files.Read', 'Files.Read.All', 'Sites.Read.All', 'Tasks.Read', 'Contacts.Read',
  'GroupMember.Read.All', 'Team.ReadBasic.All', 'Channel.ReadBasic.All', 'Chat.Read',
  'ChannelMessage.Read.All', 'Presence.Read', 'Notes.Read',
] as const;

/** Azure Resource Manager, public cloud; the broker maps it to a sovereign cloud's resource. */
export const ARM_DEFAULT_SCOPE = 'https://management.azure.com/.default';

export const TOOL_CATALOGUE: readonly ToolScopeDeclaration[] = [
  { name: 'get_my_profile', scopes: ['User.Read'], readOnly: true },
  // GET /me/manager documents User.Read.All as its least-privileged delegated permission (User.Read does not cover it).
  { name: 'get_my_manager', scopes: ['User.Read.All'], readOnly: true },
  // /me/memberOf needs only User.Read, but directory objects the caller may not read come back with only
  // `id` and `@odata.type` ("limited information"): group names and mails need a scope that reads groups.
  // Group.ReadBasic.All is the least privileged one that promises the groups' basic properties.
  { name: 'list_my_groups', scopes: ['Group.ReadBasic.All'], readOnly: true },
  { name: 'find_people', scopes: ['People.Read'], readOnly: true },
  // User.ReadBasic.All covers only the basic profile (names, mail, UPN, id): the tool promises no more.
  { name: 'get_user', scopes: ['User.ReadBasic.All'], readOnly: true },
  // GroupMember.ReadBasic.All lists the members; the members are users, readable (basic profile) only with
  // User.ReadBasic.All, or Graph returns them with limited information.
  { name: 'list_group_members', scopes: ['GroupMember.ReadBasic.All', 'User.ReadBasic.All'], readOnly: true },
  { name: 'list_messages', scopes: ['Mail.Read'], readOnly: true },
  { name: 'get_message', scopes: ['Mail.Read'], readOnly: true },
  { name: 'list_mail_folders', scopes: ['Mail.ReadBasic'], readOnly: true },
  { name: 'send_mail', scopes: ['Mail.Send'], readOnly: false },
  { name: 'reply_to_message', scopes: ['Mail.Send'], readOnly: false },
  { name: 'list_events', scopes: ['Calendars.Read'], readOnly: true },
  { name: 'get_event', scopes: ['Calendars.Read'], readOnly: true },
  { name: 'find_meeting_times', scopes: ['Calendars.Read.Shared'], readOnly: true },
  { name: 'create_event', scopes: ['Calendars.ReadWrite'], readOnly: false },
  { name: 'search_files', scopes: ['Files.Read'], readOnly: true },
  { name: 'list_folder', scopes: ['Files.Read'], readOnly: true },
  { name: 'read_file', scopes: ['Files.Read'], readOnly: true },
  { name: 'list_joined_teams', scopes: ['Team.ReadBasic.All'], readOnly: true },
  { name: 'list_channels', scopes: ['Channel.ReadBasic.All'], readOnly: true },
  { name: 'list_channel_messages', scopes: ['ChannelMessage.Read.All'], readOnly: true },
  { name: 'list_chats', scopes: ['Chat.ReadBasic'], readOnly: true },
  { name: 'list_chat_messages', scopes: ['Chat.Read'], readOnly: true },
  { name: 'send_chat_message', scopes: ['ChatMessage.Send'], readOnly: false },
  { name: 'list_task_lists', scopes: ['Tasks.Read'], readOnly: true },
  { name: 'list_tasks', scopes: ['Tasks.Read'], readOnly: true },
  { name: 'create_task', scopes: ['Tasks.ReadWrite'], readOnly: false },
  { name: 'auth_status', scopes: [], readOnly: true },
  { name: 'list_subscriptions', scopes: [ARM_DEFAULT_SCOPE], readOnly: true },
  { name: 'list_resource_groups', scopes: [ARM_DEFAULT_SCOPE], readOnly: true },
  { name: 'list_resources', scopes: [ARM_DEFAULT_SCOPE], readOnly: true },
  { name: 'graph_get', scopes: ['User.Read'], optionalScopes: GRAPH_GET_READ_SCOPES, readOnly: true },
  { name: 'arm_get', scopes: [ARM_DEFAULT_SCOPE], readOnly: true },
];

export function toolDeclaration(name: string): ToolScopeDeclaration {
  const declaration = TOOL_CATALOGUE.find(tool => tool.name === name);
  if (!declaration) {
    throw new Error(`Tool "${name}" is not in the catalogue.`);
  }
  return declaration;
}

/**
 * The scopes a tool may obtain: its own declaration plus the scopes the user added explicitly
 * (entraMcp.additionalScopes). An unknown or disabled tool may obtain nothing.
 */
export function allowedScopesFor(tool: string, additionalScopes: readonly string[], selection: ToolSelection = ALL_READ_TOOLS): string[] {
  const declaration = TOOL_CATALOGUE.find(entry => entry.name === tool);
  if (!declaration || !isToolEnabled(declaration, selection)) {
    return [];
  }
  return [...declaration.scopes, ...(declaration.optionalScopes ?? []), ...additionalScopes];
}

export interface ToolSelection {
  /** Write tools are listed only when the user allows writes (entraMcp.allowWrites). */
  readonly allowWrites: boolean;
  /** Names or `*` patterns (entraMcp.enabledTools); empty means every tool. */
  readonly enabledTools: readonly string[];
}

export const ALL_READ_TOOLS: ToolSelection = { allowWrites: false, enabledTools: [] };

/** Whether a tool is listed and may obtain tokens under the user's selection. */
export function isToolEnabled(tool: ToolScopeDeclaration, selection: ToolSelection): boolean {
  if (!tool.readOnly && !selection.allowWrites) {
    return false;
  }
  return selection.enabledTools.length === 0 || selection.enabledTools.some(pattern => wildcardMatches(pattern.trim(), tool.name, { ignoreCase: true }));
}


/** Serialises a selection into the server's environment, and back. */
export function selectionToEnv(selection: ToolSelection): Record<string, string> {
  return { [ENV.allowWrites]: String(selection.allowWrites), [ENV.enabledTools]: selection.enabledTools.join(',') };
}

export function selectionFromEnv(env: NodeJS.ProcessEnv): ToolSelection {
  return {
    allowWrites: env[ENV.allowWrites] === 'true',
    enabledTools: (env[ENV.enabledTools] ?? '').split(',').map(name => name.trim()).filter(Boolean),
  };
}
