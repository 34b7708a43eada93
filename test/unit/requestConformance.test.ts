/**
 * Every request every tool sends, checked against Microsoft's own descriptions: the Graph v1.0
 * CSDL (path, method, every property a query option names, write bodies), the permissions data
 * behind the Graph docs (the declared scope against the least-privileged delegated permission)
 * and the ARM REST specs (path template, api-version). Driven by the catalogue: a new tool fails
 * here until it has a sample call below.
 */
import * as assert from 'node:assert/strict';
import { TOOL_CATALOGUE, toolDeclaration } from '../../src/shared/toolCatalogue';
import { FakeGraph, RecordedRequest } from '../helpers/fakeGraph';
import { McpHarness, resultText } from '../helpers/mcpHarness';
import { checkArmRequest, checkGraphRequest, checkScopes, ScopeException } from '../helpers/graphDescriptions';

const TEAM = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
const CHANNEL = '19:09fc54a3141a45d0bc769cf506d2e079@thread.skype';
const CHAT = '19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31-22c0-4f6f-9f73-91d34ab2b32d@unq.gbl.spaces';
const SUBSCRIPTION = '00000001-0000-4000-8000-000000000000';
const GROUP = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
const LIST_ID = 'AAMkADIyAAAAABrJAAA=';
const MESSAGE_ID = 'AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAA=';

interface SampleCall {
  readonly args?: Record<string, unknown>;
  readonly setup?: (graph: FakeGraph) => void;
}

/** A call of each tool that succeeds against the fake Graph, chosen to exercise paging, filters and write bodies. */
const SAMPLE_CALLS: Record<string, SampleCall> = {
  get_my_profile: {},
  get_my_manager: {},
  list_my_groups: { setup: graph => graph.serveGroups(2, 2) },
  find_people: { args: { query: 'adele+test@contoso.com' } },
  get_user: { args: { user: 'AdeleV@contoso.com' } },
  list_group_members: {
    args: { group: GROUP },
    setup: graph => graph.servePages(`/v1.0/groups/${GROUP}/members/microsoft.graph.user`,
      [{ '@odata.type': '#microsoft.graph.user', id: 'user-0', displayName: 'Adele Vance', mail: null, userPrincipalName: 'u0@contoso.com' }], 2),
  },
  list_messages: { args: { from: 'alex+news@contoso.com', unreadOnly: true } },
  get_message: { args: { id: MESSAGE_ID } },
  list_mail_folders: {},
  send_mail: { args: { to: ['AlexW@contoso.com'], subject: 'Numbers', body: 'Attached tomorrow.' } },
  reply_to_message: { args: { id: MESSAGE_ID, comment: 'Will do.' } },
  list_events: { args: { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00', timeZone: 'Pacific Standard Time' } },
  get_event: { args: { id: 'AAMkAGIAAAoZDOFAAA=' } },
  find_meeting_times: { args: { attendees: ['AlexW@contoso.com'], windowStart: '2026-11-24T09:00:00', windowEnd: '2026-11-24T17:00:00' } },
  create_event: { args: { subject: 'Design review', start: '2026-11-26T14:00:00', end: '2026-11-26T15:00:00', attendees: ['AlexW@contoso.com'] } },
  search_files: { args: { query: "roadmap '26" } },
  list_folder: { args: { path: 'Documents/Q4 Plans' } },
  read_file: { args: { id: '01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K' } },
  list_joined_teams: {},
  list_channels: { args: { teamId: TEAM } },
  list_channel_messages: { args: { teamId: TEAM, channelId: CHANNEL } },
  list_chats: {},
  list_chat_messages: { args: { chatId: CHAT } },
  send_chat_message: { args: { chatId: CHAT, text: 'Looking now.' } },
  list_task_lists: {},
  list_tasks: { args: { listId: LIST_ID } },
  create_task: { args: { listId: LIST_ID, title: 'Book travel' } },
  auth_status: {},
  list_subscriptions: {},
  list_resource_groups: { args: { subscriptionId: SUBSCRIPTION } },
  list_resources: { args: { subscriptionId: SUBSCRIPTION, resourceGroup: 'web-rg' } },
  graph_get: { args: { path: '/me' } },
  arm_get: { args: { path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/web-rg/providers/Microsoft.Web/sites/contoso-app`, apiVersion: '2023-01-01' } },
};

/** Tools that send nothing to Graph or ARM. */
const NO_REQUESTS: Record<string, string> = {
  auth_status: 'reports the broker\'s own sign-in state',
};

describe('Requests conform to Microsoft\'s descriptions', () => {
  let mcp: McpHarness;

  before(async () => {
    mcp = await McpHarness.start();
  });

  after(async () => {
    await mcp.stop();
  });

  it('every catalogued tool has a sample call', () => {
    for (const tool of TOOL_CATALOGUE) {
      assert.ok(SAMPLE_CALLS[tool.name], `${tool.name}: add a sample call to SAMPLE_CALLS`);
    }
  });

  for (const tool of TOOL_CATALOGUE) {
    it(`${tool.name} sends only documented requests`, async () => {
      const sample = SAMPLE_CALLS[tool.name];
      assert.ok(sample, `${tool.name} has no sample call`);
      sample.setup?.(mcp.graph);
      const before = mcp.graph.requests.length;
      const result = await mcp.call(tool.name, sample.args ?? {});
      assert.equal(result.isError, undefined, `${tool.name}: ${resultText(result)}`);
      const requests = mcp.graph.requests.slice(before);
      if (NO_REQUESTS[tool.name]) {
        assert.equal(requests.length, 0, `${tool.name} ${NO_REQUESTS[tool.name]}`);
        return;
      }
      assert.ok(requests.length > 0, `${tool.name} sent no request`);
      const problems = requests.flatMap(request => problemsOf(tool.name, request));
      assert.deepEqual(problems, [], `${tool.name}:\n  ${problems.join('\n  ')}`);
    });
  }
});

/**
 * Tools that declare more than the least-privileged documented permission on purpose. The
 * permissions data lists what suffices to call the path, not what makes Graph return the fields
 * the tool promises: directory objects the caller may not read come back with only `id` and
 * `@odata.type` ("limited information").
 */
const SCOPE_EXCEPTIONS: Record<string, ScopeException> = {
  list_my_groups: { reason: '/me/memberOf needs only User.Read, but group names and mails need Group.ReadBasic.All' },
  list_group_members: { reason: 'members\' names need User.ReadBasic.All besides GroupMember.ReadBasic.All' },
  // The data marks Calendars.ReadBasic least privileged for calendarView, but also as needing an
  // administrator's consent for work accounts, where Calendars.Read does not; list_events and
  // get_event share Calendars.Read so that one user consent covers both.
  list_events: { reason: 'Calendars.ReadBasic needs admin consent, Calendars.Read does not' },
};

function problemsOf(tool: string, request: RecordedRequest): string[] {
  const declaration = toolDeclaration(tool);
  if (!request.path.startsWith('/v1.0/')) { return checkArmRequest(declaration, request); }
  const { problems, resolved } = checkGraphRequest(request);
  return resolved ? [...problems, ...checkScopes(declaration, resolved, request, SCOPE_EXCEPTIONS[tool])] : problems;
}
