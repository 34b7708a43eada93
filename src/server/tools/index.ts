import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolSelection, isToolEnabled, toolDeclaration } from '../../shared/toolCatalogue';
import { registerAuthStatusTool } from './authStatus';
import { registerArmGetTool } from './azure/armGet';
import { registerListResourceGroupsTool } from './azure/listResourceGroups';
import { registerListResourcesTool } from './azure/listResources';
import { registerListSubscriptionsTool } from './azure/listSubscriptions';
import { registerCreateEventTool } from './calendar/createEvent';
import { registerFindMeetingTimesTool } from './calendar/findMeetingTimes';
import { registerGetEventTool } from './calendar/getEvent';
import { registerListEventsTool } from './calendar/listEvents';
import { registerListFolderTool } from './files/listFolder';
import { registerReadFileTool } from './files/readFile';
import { registerSearchFilesTool } from './files/searchFiles';
import { registerGetMessageTool } from './mail/getMessage';
import { registerListMailFoldersTool } from './mail/listMailFolders';
import { registerListMessagesTool } from './mail/listMessages';
import { registerReplyToMessageTool } from './mail/replyToMessage';
import { registerSendMailTool } from './mail/sendMail';
import { registerGetMyManagerTool } from './me/getMyManager';
import { registerGetMyProfileTool } from './me/getMyProfile';
import { registerListMyGroupsTool } from './me/listMyGroups';
import { registerFindPeopleTool } from './people/findPeople';
import { registerGetUserTool } from './people/getUser';
import { registerCreateTaskTool } from './tasks/createTask';
import { registerListChannelMessagesTool } from './teams/listChannelMessages';
import { registerListChannelsTool } from './teams/listChannels';
import { registerListChatMessagesTool } from './teams/listChatMessages';
import { registerListChatsTool } from './teams/listChats';
import { registerListJoinedTeamsTool } from './teams/listJoinedTeams';
import { registerSendChatMessageTool } from './teams/sendChatMessage';
import { registerListTaskListsTool } from './tasks/listTaskLists';
import { registerListTasksTool } from './tasks/listTasks';
import { registerListGroupMembersTool } from './people/listGroupMembers';
import { registerGraphGetTool } from './graphGet';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolDeps, ToolExtra, ToolGuard } from './toolContext';

/** Every tool, in the order `tools/list` shows them. */
export const TOOL_REGISTRARS: ReadonlyArray<[name: string, register: (server: McpServer, deps: ToolDeps) => void]> = [
  ['get_my_profile', registerGetMyProfileTool],
  ['get_my_manager', registerGetMyManagerTool],
  ['list_my_groups', registerListMyGroupsTool],
  ['find_people', registerFindPeopleTool],
  ['get_user', registerGetUserTool],
  ['list_group_members', registerListGroupMembersTool],
  ['list_messages', registerListMessagesTool],
  ['get_message', registerGetMessageTool],
  ['list_mail_folders', registerListMailFoldersTool],
  ['send_mail', registerSendMailTool],
  ['reply_to_message', registerReplyToMessageTool],
  ['list_events', registerListEventsTool],
  ['get_event', registerGetEventTool],
  ['find_meeting_times', registerFindMeetingTimesTool],
  ['create_event', registerCreateEventTool],
  ['search_files', registerSearchFilesTool],
  ['list_folder', registerListFolderTool],
  ['read_file', registerReadFileTool],
  ['list_joined_teams', registerListJoinedTeamsTool],
  ['list_channels', registerListChannelsTool],
  ['list_channel_messages', registerListChannelMessagesTool],
  ['list_chats', registerListChatsTool],
  ['list_chat_messages', registerListChatMessagesTool],
  ['send_chat_message', registerSendChatMessageTool],
  ['list_task_lists', registerListTaskListsTool],
  ['list_tasks', registerListTasksTool],
  ['create_task', registerCreateTaskTool],
  ['list_subscriptions', registerListSubscriptionsTool],
  ['list_resource_groups', registerListResourceGroupsTool],
  ['list_resources', registerListResourcesTool],
  ['auth_status', registerAuthStatusTool],
  ['graph_get', registerGraphGetTool],
  ['arm_get', registerArmGetTool],
];

/** Registers the tools the user's selection enables: disabled and (by default) write tools are not listed. */
export function registerTools(server: McpServer, deps: ToolDeps, selection: ToolSelection): void {
  const registry = deps.guard ? guardedRegistry(server, deps.guard) : server;
  for (const [name, register] of TOOL_REGISTRARS) {
    if (isToolEnabled(toolDeclaration(name), selection)) {
      register(registry, deps);
    }
  }
}

/**
 * The server as the tools see it, with every callback they register wrapped by the guard. The
 * SDK calls a callback with `(args, extra)`, or `(extra)` for a tool without input schema: the
 * request's `extra` (and its `authInfo`) is always the last argument.
 */
function guardedRegistry(server: McpServer, guard: ToolGuard): McpServer {
  const registerTool = ((name: string, config: never, callback: (...params: unknown[]) => Promise<CallToolResult>) =>
    server.registerTool(name, config, ((...params: unknown[]) =>
      guard(name, params[params.length - 1] as ToolExtra, () => callback(...params))) as never)) as McpServer['registerTool'];
  return new Proxy(server, {
    get: (target, property, receiver) => (property === 'registerTool' ? registerTool : Reflect.get(target, property, receiver)),
  });
}

export type { ToolDeps };
