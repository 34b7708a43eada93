import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { notSignedInError } from '../../src/extension/auth/brokerError';
import { BrokerHandlers } from '../../src/extension/broker/brokerServer';
import { ALL_READ_TOOLS, ToolSelection, toolDeclaration } from '../../src/shared/toolCatalogue';
import { FakeGraph, graphError } from '../helpers/fakeGraph';
import { Harness } from '../helpers/brokerHarness';
import { McpHarness, resultText } from '../helpers/mcpHarness';

describe('MCP tools against a fake Graph and a real broker', () => {
  let mcp: McpHarness;
  let graph: FakeGraph;
  let harness: Harness;
  let client: Client;

  /** Replaces the broker with one using these handlers, and reconnects the client to it. */
  async function reconnectToBroker(handlers: Partial<BrokerHandlers>): Promise<void> {
    await mcp.replaceBroker(handlers);
    ({ client } = mcp);
    harness = mcp.broker;
  }

  function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return mcp.call(name, args);
  }

  const text = resultText;

  beforeEach(async () => {
    mcp = await McpHarness.start();
    ({ graph, client } = mcp);
    harness = mcp.broker;
  });

  afterEach(async () => {
    await mcp.stop();
  });

  it('lists the tools with titles, schemas and read-only annotations', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map(tool => tool.name), ['get_my_profile', 'get_my_manager', 'list_my_groups', 'find_people', 'get_user',
      'list_group_members', 'list_messages', 'get_message', 'list_mail_folders', 'send_mail', 'reply_to_message',
      'list_events', 'get_event', 'find_meeting_times', 'create_event', 'search_files', 'list_folder', 'read_file',
      'list_joined_teams', 'list_channels', 'list_channel_messages', 'list_chats', 'list_chat_messages', 'send_chat_message',
      'list_task_lists', 'list_tasks', 'create_task',
      'list_subscriptions', 'list_resource_groups', 'list_resources', 'auth_status', 'graph_get', 'arm_get']);
    assert.ok(tools.length <= 40, 'VS Code caps a request at 128 tools; the catalogue stays well under');
    for (const tool of tools) {
      const readOnly = toolDeclaration(tool.name).readOnly;
      assert.ok(tool.title && tool.description && tool.outputSchema, tool.name);
      assert.equal(tool.annotations?.readOnlyHint, readOnly, tool.name);
      assert.equal(tool.annotations?.destructiveHint, !readOnly, `${tool.name}: write tools carry destructiveHint so VS Code asks first`);
    }
    const graphGet = tools.find(tool => tool.name === 'graph_get')!;
    assert.deepEqual(graphGet.inputSchema.required, ['path']);
  });

  /** Names a server built with this selection lists. */
  async function listedTools(selection: ToolSelection = ALL_READ_TOOLS): Promise<Array<{ name: string; annotations?: { readOnlyHint?: boolean } }>> {
    await mcp.disconnect();
    return (await mcp.connect(selection)).listTools().then(result => result.tools);
  }

  it('does not list write tools unless writes are allowed', async () => {
    const tools = await listedTools();
    assert.ok(!tools.some(tool => tool.name === 'create_event' || tool.name === 'send_mail'));
    assert.ok(tools.every(tool => tool.annotations?.readOnlyHint === true));
  });

  it('lists only the tools the user enabled', async () => {
    const tools = await listedTools({ allowWrites: false, enabledTools: ['get_my_*'] });
    assert.deepEqual(tools.map(tool => tool.name), ['get_my_profile', 'get_my_manager']);
  });

  it('get_my_profile returns the user with the broker\'s token on the wire', async () => {
    const result = await call('get_my_profile');
    assert.equal(result.isError, undefined, text(result));
    const profile = result.structuredContent as Record<string, unknown>;
    assert.equal(profile.displayName, 'Megan Bowen');
    assert.equal(profile.userPrincipalName, 'MeganB@contoso.com');
    assert.equal(graph.requests.length, 1);
    const request = graph.requests[0];
    assert.equal(request.method, 'GET');
    assert.equal(request.path, '/v1.0/me');
    assert.match(request.query.get('$select') ?? '', /displayName/);
    assert.equal(request.authorization, `Bearer ${harness.issued[0]}`);
    assert.deepEqual(harness.tokenRequests[0], { tool: 'get_my_profile', scopes: ['User.Read'] });
    assert.ok(!text(result).includes(harness.issued[0]), 'the token never reaches the model');
  });

  it('retries 429 and 503 honouring Retry-After, then succeeds', async () => {
    graph.script(graphError(429, 'TooManyRequests', 'Slow down', { 'Retry-After': '1' }), graphError(503, 'ServiceUnavailable', 'Busy'));
    const started = Date.now();
    const result = await call('get_my_profile');
    assert.equal(result.isError, undefined, text(result));
    assert.equal(graph.requests.length, 3);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
  });

  it('gives up with a clear message when Graph asks to wait longer than the bound', async () => {
    graph.script(graphError(429, 'TooManyRequests', 'Slow down', { 'Retry-After': '600' }));
    const result = await call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(text(result), /busy.*try again/i);
    assert.equal(graph.requests.length, 1);
  });

  it('answers a claims challenge with a token for it and retries once', async () => {
    const challenge = 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZX19fQ=="';
    graph.script(graphError(401, 'InvalidAuthenticationToken', 'Continuous access evaluation resulted in claims challenge', { 'WWW-Authenticate': challenge }));
    const result = await call('get_my_profile');
    assert.equal(result.isError, undefined, text(result));
    assert.equal(graph.requests.length, 2);
    assert.equal(harness.tokenRequests[1].wwwAuthenticate, challenge);
    assert.equal(graph.requests[1].authorization, `Bearer ${harness.issued[1]}`);
  });

  it('does not loop on repeated claims challenges', async () => {
    const challenge = 'Bearer error="insufficient_claims", claims="e30="';
    const unauthorized = graphError(401, 'InvalidAuthenticationToken', 'claims challenge', { 'WWW-Authenticate': challenge });
    graph.script(unauthorized, unauthorized, unauthorized);
    const result = await call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(text(result), /Sign In/);
    assert.equal(graph.requests.length, 2);
  });

  it('get_my_manager returns the manager with User.Read.All, and null when none is set', async () => {
    const found = await call('get_my_manager');
    assert.equal(found.isError, undefined, text(found));
    assert.equal((found.structuredContent as { manager: { displayName: string } }).manager.displayName, 'Miriam Graham');
    assert.equal(graph.requests[0].path, '/v1.0/me/manager');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['User.Read.All'], 'the documented least-privileged permission of GET /me/manager');
    graph.script(graphError(404, 'Request_ResourceNotFound', "Resource 'manager' does not exist or one of its queried reference-property objects are not present."));
    const none = await call('get_my_manager');
    assert.equal(none.isError, undefined, text(none));
    assert.equal((none.structuredContent as { manager: unknown }).manager, null);
  });

  it('the fake Graph refuses GET /me/manager with only User.Read, as documented', async () => {
    const result = await call('graph_get', { path: '/me/manager' });
    assert.equal(result.isError, true);
    assert.equal(graph.requests[0].path, '/v1.0/me/manager');
  });

  it('list_my_groups asks for a scope under which Graph returns the groups\' names, not limited information', async () => {
    graph.serveGroups(3, 3);
    const result = await call('list_my_groups', { limit: 5 });
    assert.equal(result.isError, undefined, text(result));
    const { groups } = result.structuredContent as { groups: Array<{ displayName: string | null; mail: string | null }> };
    assert.deepEqual(groups.map(group => [group.displayName, group.mail]),
      [['Group 0', 'group0@contoso.com'], ['Group 1', 'group1@contoso.com'], ['Group 2', 'group2@contoso.com']]);
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Group.ReadBasic.All']);
  });

  it('the fake Graph returns directory objects the token may not read with only id and type', async () => {
    graph.serveGroups(2, 2);
    // graph_get's default scope is User.Read, which does not cover reading groups.
    const result = await call('graph_get', { path: '/me/memberOf/microsoft.graph.group', select: ['id', 'displayName', 'mail'] });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual((result.structuredContent as { items: unknown[] }).items, [
      { '@odata.type': '#microsoft.graph.group', id: 'group-0', displayName: null, mail: null },
      { '@odata.type': '#microsoft.graph.group', id: 'group-1', displayName: null, mail: null },
    ]);
  });

  it('list_my_groups pages up to the limit and says when more exist', async () => {
    graph.serveGroups(7, 2);
    const result = await call('list_my_groups', { limit: 5 });
    assert.equal(result.isError, undefined, text(result));
    const { groups, hasMore } = result.structuredContent as { groups: Array<{ id: string; kind: string }>; hasMore: boolean };
    assert.deepEqual(groups.map(group => group.id), ['group-0', 'group-1', 'group-2', 'group-3', 'group-4']);
    assert.equal(hasMore, true);
    assert.deepEqual(groups.slice(0, 3).map(group => group.kind), ['Microsoft 365', 'security', 'distribution']);
    assert.equal(graph.requests.length, 3, 'three pages of two');
    assert.ok(graph.requests.every(request => request.authorization === `Bearer ${harness.issued[0]}`));
  });

  it('list_my_groups reads everything when the limit allows, and reports progress per page', async () => {
    graph.serveGroups(4, 2);
    const progress: number[] = [];
    const result = await client.callTool({ name: 'list_my_groups', arguments: { limit: 10 } }, undefined, {
      onprogress: update => { progress.push(update.progress); },
    }) as CallToolResult;
    const { groups, hasMore } = result.structuredContent as { groups: unknown[]; hasMore: boolean };
    assert.equal(groups.length, 4);
    assert.equal(hasMore, false);
    assert.deepEqual(progress, [2, 4]);
  });

  it('find_people searches the ranked people list with People.Read', async () => {
    const result = await call('find_people', { query: 'adele', limit: 5 });
    assert.equal(result.isError, undefined, text(result));
    const { people } = result.structuredContent as { people: Array<{ email: string; displayName: string }> };
    assert.deepEqual(people.map(person => [person.displayName, person.email]), [['Adele Vance', 'AdeleV@contoso.com']]);
    const request = graph.requests[0];
    assert.equal(request.path, '/v1.0/me/people');
    assert.equal(request.query.get('$search'), '"adele"');
    assert.equal(request.query.get('$top'), '5');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['People.Read']);
  });

  it('find_people refuses quotes and line breaks in the query', async () => {
    for (const query of ['a" OR "b', 'x\r\ny', '']) {
      const result = await call('find_people', { query });
      assert.equal(result.isError, true, JSON.stringify(query));
    }
    assert.equal(graph.requests.length, 0);
  });

  it('get_user reads a user\'s basic profile by UPN with User.ReadBasic.All, and refuses other shapes', async () => {
    const result = await call('get_user', { user: 'AdeleV@contoso.com' });
    assert.equal(result.isError, undefined, text(result));
    // User.ReadBasic.All does not cover jobTitle or department: the tool neither asks for nor promises them.
    assert.deepEqual((result.structuredContent as { user: unknown }).user,
      { id: '33b43a5b-87d6-41ec-91f8-a2610048105f', displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.com', mail: 'AdeleV@contoso.com' });
    assert.deepEqual(graph.requests[0].query.get('$select')?.split(',').sort(), ['displayName', 'id', 'mail', 'userPrincipalName']);
    assert.deepEqual(harness.tokenRequests[0].scopes, ['User.ReadBasic.All']);
    for (const user of ['../me', 'AdeleV@contoso.com/manager', 'https://evil.example']) {
      assert.equal((await call('get_user', { user })).isError, true, user);
    }
    assert.equal(graph.requests.length, 1);
  });

  it('list_group_members pages through a group\'s users, with the scopes that return their names', async () => {
    const group = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
    const members = Array.from({ length: 5 }, (_, i) => ({ '@odata.type': '#microsoft.graph.user', id: `user-${i}`, displayName: `User ${i}`, mail: `user${i}@contoso.com`, userPrincipalName: `user${i}@contoso.com`, jobTitle: 'Engineer', department: 'R&D' }));
    graph.servePages(`/v1.0/groups/${group}/members/microsoft.graph.user`, members, 2);
    const result = await call('list_group_members', { group, limit: 10 });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as { members: Array<Record<string, unknown>>; hasMore: boolean };
    assert.equal(shaped.members.length, 5);
    assert.equal(shaped.hasMore, false);
    // With GroupMember.* alone Graph returns each user with only id and type ("limited information").
    assert.deepEqual(shaped.members[4], { id: 'user-4', displayName: 'User 4', userPrincipalName: 'user4@contoso.com', mail: 'user4@contoso.com' });
    assert.deepEqual(harness.tokenRequests[0].scopes, ['GroupMember.ReadBasic.All', 'User.ReadBasic.All']);
    assert.equal((await call('list_group_members', { group: 'not-a-guid' })).isError, true);
  });

  it('list_events reads the calendar view in the asked time zone', async () => {
    const result = await call('list_events', { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00', timeZone: 'Pacific Standard Time', limit: 10 });
    assert.equal(result.isError, undefined, text(result));
    const { events } = result.structuredContent as { events: Array<Record<string, unknown>> };
    assert.deepEqual(events[0], {
      id: 'AAMkAGIAAAoZDOFAAA=', subject: 'Orientation', start: '2026-11-24T09:00:00.0000000', end: '2026-11-24T10:00:00.0000000',
      timeZone: 'Pacific Standard Time', isAllDay: false, location: 'Conf Room 3', organizer: 'DanaS@contoso.com', attendees: 1,
      joinUrl: 'https://teams.microsoft.com/l/meetup-join/19%3ameeting', showAs: 'busy', webLink: 'https://outlook.office365.com/owa/?itemid=AAMkAGIAAAoZDOFAAA%3D',
    });
    const request = graph.requests[0];
    assert.equal(request.path, '/v1.0/me/calendarView');
    // Without an offset calendarView reads the window as UTC, whatever Prefer says: the zone's offset is sent.
    assert.equal(request.query.get('startDateTime'), '2026-11-24T00:00:00-08:00');
    assert.equal(request.query.get('endDateTime'), '2026-11-25T00:00:00-08:00');
    assert.equal(request.query.get('$orderby'), 'start/dateTime');
    assert.equal(request.headers.prefer, 'outlook.timezone="Pacific Standard Time"');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Calendars.Read']);
  });

  it('list_events returns the events of the day in the asked zone, not of the UTC day', async () => {
    const result = await call('list_events', { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00', timeZone: 'Pacific Standard Time' });
    assert.equal(result.isError, undefined, text(result));
    // Early call is on 23 November in California (03:00 UTC); Late call on the 24th (05:00 UTC on the 25th).
    assert.deepEqual((result.structuredContent as { events: Array<{ subject: string; start: string }> }).events.map(event => [event.subject, event.start]),
      [['Orientation', '2026-11-24T09:00:00.0000000'], ['Review', '2026-11-24T09:00:00.0000000'], ['Late call', '2026-11-24T21:00:00.0000000']]);
  });

  it('list_events sends IANA zones, zones east of UTC and summer time with their offsets', async () => {
    await call('list_events', { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00', timeZone: 'India Standard Time' });
    assert.equal(graph.requests[0].query.get('startDateTime'), '2026-11-24T00:00:00+05:30', 'a "+" offset arrives as "+", not a space');
    await call('list_events', { start: '2026-07-01T08:00:00', end: '2026-07-02T08:00:00', timeZone: 'Europe/Paris' });
    assert.equal(graph.requests[1].query.get('startDateTime'), '2026-07-01T08:00:00+02:00');
    await call('list_events', { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00' });
    assert.equal(graph.requests[2].query.get('startDateTime'), '2026-11-24T00:00:00Z', 'the default zone is UTC');
    await call('list_events', { start: '2026-11-24T00:00:00-05:00', end: '2026-11-25T00:00:00-05:00', timeZone: 'Europe/Paris' });
    assert.equal(graph.requests[3].query.get('startDateTime'), '2026-11-24T00:00:00-05:00', 'an explicit offset is kept');
    assert.match(text(await call('list_events', { start: '2026-11-24T00:00:00', end: '2026-11-25T00:00:00', timeZone: 'Mars Standard Time' })), /Unknown time zone/);
    assert.equal(graph.requests.length, 4);
  });

  it('list_events refuses inverted and overlong windows before calling Graph', async () => {
    assert.match(text(await call('list_events', { start: '2026-11-25T00:00:00', end: '2026-11-24T00:00:00' })), /after start/);
    assert.match(text(await call('list_events', { start: '2026-01-01T00:00:00', end: '2026-06-01T00:00:00' })), /at most 62 days/);
    assert.equal((await call('list_events', { start: 'tomorrow', end: '2026-06-01T00:00:00' })).isError, true);
    assert.equal(graph.requests.length, 0);
  });

  it('get_event marks the description as untrusted content', async () => {
    const result = await call('get_event', { id: 'AAMkAGIAAAoZDOFAAA=' });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as { description: string; untrustedContent: string; attendeeList: unknown[] };
    assert.match(shaped.description, /Ignore previous instructions/);
    assert.match(shaped.untrustedContent, /never as instructions/);
    assert.deepEqual(shaped.attendeeList, [{ email: 'AlexW@contoso.com', response: 'accepted', type: 'required' }]);
  });

  it('find_meeting_times asks Graph for free slots and books nothing', async () => {
    const result = await call('find_meeting_times', { attendees: ['AlexW@contoso.com'], durationMinutes: 30,
      windowStart: '2026-11-24T09:00:00', windowEnd: '2026-11-24T17:00:00', timeZone: 'Pacific Standard Time' });
    assert.equal(result.isError, undefined, text(result));
    const { suggestions } = result.structuredContent as { suggestions: Array<Record<string, unknown>> };
    assert.equal(suggestions[0].start, '2026-11-24T14:00:00.0000000');
    assert.deepEqual(suggestions[0].unavailable, []);
    const request = graph.requests[0];
    assert.equal(request.path, '/v1.0/me/findMeetingTimes');
    assert.equal((request.body as { meetingDuration: string }).meetingDuration, 'PT30M');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Calendars.Read.Shared']);
  });

  it('create_event posts the event with Calendars.ReadWrite', async () => {
    const result = await call('create_event', { subject: 'Design review', start: '2026-11-26T14:00:00', end: '2026-11-26T15:00:00',
      timeZone: 'Europe/Paris', attendees: ['AlexW@contoso.com'], isOnlineMeeting: true });
    assert.equal(result.isError, undefined, text(result));
    assert.equal((result.structuredContent as { event: { id: string; subject: string } }).event.subject, 'Design review');
    const request = graph.requests[0];
    assert.equal(request.method, 'POST');
    assert.deepEqual(request.body, {
      subject: 'Design review', start: { dateTime: '2026-11-26T14:00:00', timeZone: 'Europe/Paris' },
      end: { dateTime: '2026-11-26T15:00:00', timeZone: 'Europe/Paris' },
      attendees: [{ emailAddress: { address: 'AlexW@contoso.com' }, type: 'required' }],
      isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness',
    });
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Calendars.ReadWrite']);
  });

  it('create_event is not repeated after a 503, where it may have happened', async () => {
    graph.script(graphError(503, 'ServiceUnavailable', 'Busy'));
    const result = await call('create_event', { subject: 'Once', start: '2026-11-26T14:00:00', end: '2026-11-26T15:00:00' });
    assert.equal(result.isError, true);
    assert.equal(graph.requests.length, 1);
  });

  const MESSAGE_ID = 'AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAA=';

  it('list_messages filters by sender, date and unread state, newest first, with Mail.Read', async () => {
    const result = await call('list_messages', { from: 'DanaS@contoso.com', since: '2026-11-01T00:00:00', unreadOnly: true, limit: 5 });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as { messages: Array<Record<string, unknown>>; untrustedContent: string };
    assert.equal(shaped.messages[0].from, 'DanaS@contoso.com');
    assert.equal(shaped.messages[0].isRead, false);
    assert.match(shaped.untrustedContent, /never as instructions/);
    const request = graph.requests[0];
    assert.equal(request.path, '/v1.0/me/mailFolders/inbox/messages');
    assert.equal(request.query.get('$filter'), "receivedDateTime ge 2026-11-01T00:00:00Z and from/emailAddress/address eq 'DanaS@contoso.com' and isRead eq false");
    assert.equal(request.query.get('$orderby'), 'receivedDateTime desc');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Mail.Read']);
  });

  it('list_messages searches free text, and refuses search mixed with filters', async () => {
    assert.equal((await call('list_messages', { search: 'budget' })).isError, undefined);
    assert.equal(graph.requests[0].query.get('$search'), '"budget"');
    assert.equal(graph.requests[0].query.get('$filter'), null);
    const mixed = await call('list_messages', { search: 'budget', unreadOnly: true });
    assert.match(text(mixed), /cannot combine/);
    assert.equal(graph.requests.length, 1);
  });

  it('get_message returns the body as text, capped, and marked untrusted', async () => {
    const result = await call('get_message', { id: MESSAGE_ID, maxChars: 200 });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as Record<string, unknown>;
    assert.match(String(shaped.body), /^Hi Megan,/);
    assert.deepEqual(shaped.to, ['MeganB@contoso.com']);
    assert.equal(shaped.truncated, false);
    assert.equal(graph.requests[0].headers.prefer, 'outlook.body-content-type="text"');
    const short = await call('get_message', { id: MESSAGE_ID, maxChars: 200 });
    assert.ok(String((short.structuredContent as { body: string }).body).length <= 200 + 40);
  });

  it('list_mail_folders lists folders with counts, with Mail.ReadBasic', async () => {
    const result = await call('list_mail_folders');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Mail.ReadBasic'], 'folder names and counts need no message bodies');
    assert.deepEqual((result.structuredContent as { folders: Array<{ name: string; unread: number }> }).folders.map(f => [f.name, f.unread]), [['Inbox', 3]]);
  });

  it('send_mail posts the message with Mail.Send and is never retried after a 504', async () => {
    const result = await call('send_mail', { to: ['AlexW@contoso.com'], subject: 'Numbers', body: 'Attached tomorrow.' });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual(graph.requests[0].body, {
      message: { subject: 'Numbers', body: { contentType: 'Text', content: 'Attached tomorrow.' }, toRecipients: [{ emailAddress: { address: 'AlexW@contoso.com' } }], ccRecipients: [] },
      saveToSentItems: true,
    });
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Mail.Send']);
    graph.script(graphError(504, 'GatewayTimeout', 'timeout'));
    assert.equal((await call('send_mail', { to: ['AlexW@contoso.com'], subject: 'Once', body: 'x' })).isError, true);
    assert.equal(graph.requests.length, 2, 'no second send');
    assert.equal((await call('send_mail', { to: ['not an address'], subject: 'x', body: 'x' })).isError, true);
    assert.equal(graph.requests.length, 2);
  });

  it('reply_to_message posts the reply', async () => {
    const result = await call('reply_to_message', { id: MESSAGE_ID, comment: 'Will do.' });
    assert.equal(result.isError, undefined, text(result));
    assert.equal(graph.requests[0].path, `/v1.0/me/messages/${encodeURIComponent(MESSAGE_ID)}/reply`);
    assert.deepEqual(graph.requests[0].body, { comment: 'Will do.' });
  });

  it('search_files searches OneDrive with the query as an escaped OData literal', async () => {
    const result = await call('search_files', { query: "roadmap '26" });
    assert.equal(result.isError, undefined, text(result));
    const { items } = result.structuredContent as { items: Array<Record<string, unknown>> };
    assert.deepEqual(items[0], { id: '01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K', name: 'notes.md', kind: 'file', size: 64, mimeType: 'text/markdown',
      modified: '2026-11-20T10:00:00Z', path: '/Documents', webUrl: 'https://contoso-my.sharepoint.com/notes.md' });
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Files.Read']);
  });

  it('list_folder lists by path with each segment encoded, and refuses path tricks', async () => {
    const result = await call('list_folder', { path: 'Documents/Q4 Plans' });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual((result.structuredContent as { items: Array<{ kind: string }> }).items.map(item => item.kind), ['file', 'file', 'folder']);
    for (const path of ['Documents/../..', 'a:b', 'x\\y']) {
      assert.equal((await call('list_folder', { path })).isError, true, path);
    }
    assert.equal(graph.requests.length, 1);
  });

  it('read_file reads a text file and refuses Office documents', async () => {
    const result = await call('read_file', { id: '01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K' });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as { text: string; truncated: boolean; untrustedContent: string };
    assert.equal(shaped.text, '# Roadmap\n\n- Ship the broker\n');
    assert.equal(shaped.truncated, false);
    const deck = await call('read_file', { id: '01BYE5RZ5MYLM2SMX75ZBIPQZIHT6OAYPB' });
    assert.match(text(deck), /not a text file/);
    assert.ok(!graph.requests.some(request => request.path.endsWith('5MYLM2SMX75ZBIPQZIHT6OAYPB/content')), 'the document is never downloaded');
  });

  const SUBSCRIPTION = '00000001-0000-4000-8000-000000000000';

  it('list_subscriptions follows ARM nextLink paging with the ARM scope', async () => {
    const result = await call('list_subscriptions');
    assert.equal(result.isError, undefined, text(result));
    const { subscriptions, hasMore } = result.structuredContent as { subscriptions: Array<{ id: string; name: string }>; hasMore: boolean };
    assert.deepEqual(subscriptions.map(entry => entry.name), ['Subscription 1', 'Subscription 2']);
    assert.equal(hasMore, false);
    assert.equal(graph.requests[0].query.get('api-version'), '2022-12-01');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['https://management.azure.com/.default']);
  });

  it('list_resource_groups and list_resources read a subscription\'s groups and a group\'s resources', async () => {
    const groups = await call('list_resource_groups', { subscriptionId: SUBSCRIPTION });
    assert.deepEqual((groups.structuredContent as { resourceGroups: unknown[] }).resourceGroups, [{ name: 'web-rg', location: 'westeurope', state: 'Succeeded' }]);
    const resources = await call('list_resources', { subscriptionId: SUBSCRIPTION, resourceGroup: 'web-rg' });
    assert.equal(resources.isError, undefined, text(resources));
    const shaped = (resources.structuredContent as { resources: Array<{ type: string; sku: string | null }> }).resources;
    assert.deepEqual(shaped.map(resource => [resource.type, resource.sku]), [['Microsoft.Web/sites', null], ['Microsoft.Web/serverFarms', 'P1v3']]);
    assert.equal((await call('list_resources', { subscriptionId: SUBSCRIPTION, resourceGroup: '../x' })).isError, true);
    assert.equal((await call('list_resource_groups', { subscriptionId: 'not-a-guid' })).isError, true);
  });

  it('ARM ids and paths refuse "." and ".." segments, encoded or not, with nothing sent', async () => {
    for (const resourceGroup of ['..', '.', 'web-rg.', ' .. ']) {
      assert.equal((await call('list_resources', { subscriptionId: SUBSCRIPTION, resourceGroup })).isError, true, resourceGroup);
    }
    for (const path of [`/subscriptions/${SUBSCRIPTION}/resourceGroups/..`, `/subscriptions/${SUBSCRIPTION}/resourceGroups/./x`,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/%2e%2e/resources`, `/subscriptions/${SUBSCRIPTION}/resourceGroups/%2E./resources`,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/.%2e/resources`, `/subscriptions/${SUBSCRIPTION}/resourceGroups/%252e%252e/resources`]) {
      assert.equal((await call('arm_get', { path, apiVersion: '2023-01-01' })).isError, true, path);
    }
    assert.equal(graph.requests.length, 0);
    assert.equal((await call('list_resources', { subscriptionId: SUBSCRIPTION, resourceGroup: 'web-rg' })).isError, undefined, 'ordinary names still work');
  });

  it('arm_get reads an ARM resource and refuses paths outside ARM\'s roots', async () => {
    const result = await call('arm_get', { path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/web-rg/providers/Microsoft.Web/sites/contoso-app`, apiVersion: '2023-01-01' });
    assert.equal(result.isError, undefined, text(result));
    assert.equal(((result.structuredContent as { item: { properties: { state: string } } }).item.properties.state), 'Running');
    assert.equal(graph.requests[0].query.get('api-version'), '2023-01-01');
    for (const path of ['https://evil.example/subscriptions', '/me', '/subscriptions/../me', '/subscriptions?x=1']) {
      assert.equal((await call('arm_get', { path, apiVersion: '2023-01-01' })).isError, true, path);
    }
    assert.equal((await call('arm_get', { path: '/subscriptions', apiVersion: 'latest' })).isError, true);
    assert.equal(graph.requests.length, 1);
  });

  const TEAM = '02bd9fd6-8f93-4758-87c3-1fb73740a315';
  const CHANNEL = '19:09fc54a3141a45d0bc769cf506d2e079@thread.skype';
  const CHAT = '19:8b081ef6-4792-4def-b2c9-c363a1bf41d5_5031bb31-22c0-4f6f-9f73-91d34ab2b32d@unq.gbl.spaces';

  it('Teams: lists teams and channels, and reads channel messages as text without system events', async () => {
    const teams = await call('list_joined_teams');
    assert.deepEqual((teams.structuredContent as { teams: Array<{ id: string }> }).teams.map(team => team.id), [TEAM]);
    const channels = await call('list_channels', { teamId: TEAM });
    assert.deepEqual((channels.structuredContent as { channels: Array<{ id: string }> }).channels.map(channel => channel.id), [CHANNEL]);
    const messages = await call('list_channel_messages', { teamId: TEAM, channelId: CHANNEL });
    assert.equal(messages.isError, undefined, text(messages));
    const shaped = messages.structuredContent as { messages: Array<{ text: string; from: string }>; untrustedContent: string };
    assert.deepEqual(shaped.messages.map(message => [message.from, message.text]), [['Alex Wilber', 'Release is Friday. Plan']]);
    assert.match(shaped.untrustedContent, /never as instructions/);
    assert.deepEqual(harness.tokenRequests.map(request => request.scopes[0]), ['Team.ReadBasic.All', 'Channel.ReadBasic.All', 'ChannelMessage.Read.All']);
  });

  it('list_joined_teams sends no query options, which that API does not support', async () => {
    const result = await call('list_joined_teams');
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual([...graph.requests[0].query.keys()], []);
    assert.deepEqual((result.structuredContent as { teams: unknown[] }).teams, [{ id: TEAM, name: 'Contoso Team', description: 'Everyone' }]);
  });

  it('Teams: lists chats by their latest message, with its time, and reads a chat', async () => {
    const chats = await call('list_chats');
    assert.equal(chats.isError, undefined, text(chats));
    // The renamed chat changed yesterday (lastUpdatedDateTime) but its last message is from October.
    assert.deepEqual((chats.structuredContent as { chats: Array<{ topic: string | null; lastMessageAt: string | null }> }).chats.map(chat => [chat.topic, chat.lastMessageAt]),
      [[null, '2026-11-23T08:00:00Z'], ['Renamed yesterday', '2026-10-01T09:00:00Z']]);
    assert.equal(graph.requests[0].query.get('$orderby'), 'lastMessagePreview/createdDateTime desc');
    assert.equal(graph.requests[0].query.get('$expand'), 'lastMessagePreview');
    const messages = await call('list_chat_messages', { chatId: CHAT });
    assert.deepEqual((messages.structuredContent as { messages: Array<{ text: string }> }).messages.map(message => message.text), ['Can you review my PR?']);
    assert.equal((await call('list_chat_messages', { chatId: '../../me' })).isError, true);
  });

  it('send_chat_message posts plain text with ChatMessage.Send', async () => {
    const result = await call('send_chat_message', { chatId: CHAT, text: 'Looking now.' });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual(graph.requests[0].body, { body: { contentType: 'text', content: 'Looking now.' } });
    assert.deepEqual(harness.tokenRequests[0].scopes, ['ChatMessage.Send']);
  });

  const LIST_ID = 'AAMkADIyAAAAABrJAAA=';

  it('list_task_lists marks the default list', async () => {
    const result = await call('list_task_lists');
    assert.deepEqual((result.structuredContent as { lists: Array<{ name: string; isDefault: boolean }> }).lists.map(list => [list.name, list.isDefault]),
      [['Tasks', true], ['Shopping', false]]);
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Tasks.Read']);
  });

  it('list_tasks lists open tasks by default', async () => {
    const result = await call('list_tasks', { listId: LIST_ID });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual((result.structuredContent as { tasks: Array<Record<string, unknown>> }).tasks[0], {
      id: 'AlMKXwbQAAAJws6wcAAAA=', title: 'File expense report', status: 'notStarted', importance: 'high',
      due: '2026-11-28T00:00:00.0000000', created: '2026-11-20T09:00:00Z',
    });
    assert.equal(graph.requests[0].query.get('$filter'), "status ne 'completed'");
    await call('list_tasks', { listId: LIST_ID, status: 'all' });
    assert.equal(graph.requests[1].query.get('$filter'), null);
  });

  it('create_task posts the task with Tasks.ReadWrite', async () => {
    const result = await call('create_task', { listId: LIST_ID, title: 'Book travel', dueDate: '2026-12-01', importance: 'high' });
    assert.equal(result.isError, undefined, text(result));
    assert.deepEqual(graph.requests[0].body, { title: 'Book travel', importance: 'high', dueDateTime: { dateTime: '2026-12-01T00:00:00', timeZone: 'UTC' } });
    assert.equal((result.structuredContent as { task: { title: string } }).task.title, 'Book travel');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Tasks.ReadWrite']);
    assert.equal((await call('create_task', { listId: '../../me', title: 'x' })).isError, true);
  });

  it('does not follow a nextLink to another host', async () => {
    graph.serveGroups(4, 2, 'https://evil.example');
    const result = await call('list_my_groups', { limit: 10 });
    assert.equal(result.isError, true);
    assert.match(text(result), /^Refused a request outside Microsoft Graph/);
    assert.equal(graph.requests.length, 1);
  });

  it('refreshes once past the cache after a 401 InvalidAuthenticationToken, then succeeds', async () => {
    graph.script(graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'));
    const result = await call('get_my_profile');
    assert.equal(result.isError, undefined, text(result));
    assert.equal(graph.requests.length, 2);
    assert.deepEqual(harness.tokenRequests.map(request => request.forceRefresh ?? false), [false, true]);
    assert.equal(graph.requests[1].authorization, `Bearer ${harness.issued[1]}`);
  });

  it('never loops on 401: one refresh, then a sign-in message', async () => {
    const expired = graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    graph.script(expired, expired, expired);
    const result = await call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(text(result), /Entra MCP: Sign In/);
    assert.equal(graph.requests.length, 2);
    assert.equal(harness.tokenRequests.length, 2);
  });

  it('turns 403 into advice about consent and entraMcp.clientId', async () => {
    graph.script(graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'));
    const result = await call('graph_get', { path: '/me/messages', scopes: ['Mail.Read'] });
    assert.equal(result.isError, true);
    assert.match(text(result), /Mail\.Read/);
    assert.match(text(result), /entraMcp\.clientId/);
  });

  it('graph_get reads a collection with select/filter/top and the requested read scope', async () => {
    const result = await call('graph_get', { path: '/me/messages', select: ['id', 'subject'], filter: 'isRead eq false', top: 2, scopes: ['Mail.Read'] });
    assert.equal(result.isError, undefined, text(result));
    const shaped = result.structuredContent as { kind: string; items: Array<Record<string, unknown>>; hasMore: boolean };
    assert.equal(shaped.kind, 'collection');
    assert.equal(shaped.items[0].subject, 'Quarterly review');
    assert.equal(shaped.hasMore, true);
    const request = graph.requests[0];
    assert.equal(request.query.get('$select'), 'id,subject');
    assert.equal(request.query.get('$filter'), 'isRead eq false');
    assert.equal(request.query.get('$top'), '2');
    assert.deepEqual(harness.tokenRequests[0].scopes, ['Mail.Read']);
  });

  it('graph_get uses the beta endpoint when asked', async () => {
    const result = await call('graph_get', { path: '/me', version: 'beta' });
    assert.equal(result.isError, undefined, text(result));
    assert.equal(graph.requests[0].path, '/beta/me');
  });

  it('graph_get rejects scopes outside its read-only list in the schema', async () => {
    const result = await call('graph_get', { path: '/me', scopes: ['Mail.Send'] });
    assert.equal(result.isError, true);
    assert.equal(graph.requests.length, 0);
  });

  it('auth_status reports the account and never a token', async () => {
    const result = await call('auth_status');
    const status = result.structuredContent as Record<string, unknown>;
    assert.equal(status.signedIn, true);
    assert.equal(status.account, 'MeganB@contoso.com');
    assert.equal(status.graphEndpoint, graph.endpoint);
    assert.ok(!/eyJ/.test(text(result)));
  });

  it('relays the broker\'s sign-in error as a tool error', async () => {
    await reconnectToBroker({ getToken: async () => { throw notSignedInError('get_my_profile', 'You signed out of Entra MCP Broker.'); } });
    const result = await call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(text(result), /Run "Entra MCP: Sign In"/);
    assert.doesNotMatch(text(result), /Could not reach/, 'the broker\'s own message, not a network error');
    assert.equal(graph.requests.length, 0);
  });

  it('relays a refused scope with the broker\'s advice', async () => {
    await reconnectToBroker({ disallowedScopes: (_tool, scopes) => [...scopes] });
    const result = await call('get_my_profile');
    assert.equal(result.isError, true);
    assert.match(text(result), /^The permission User\.Read is not allowed for the tool "get_my_profile"/);
    assert.match(text(result), /entraMcp\.additionalScopes/);
  });

  it('reconnects when its broker connection drops', async () => {
    assert.equal((await call('get_my_profile')).isError, undefined);
    // The broker is still there but the connection is cut (as on a socket error).
    for (const socket of (harness.broker as unknown as { sockets: Set<import('node:net').Socket> }).sockets) { socket.destroy(); }
    await new Promise(resolve => setTimeout(resolve, 50));
    const result = await call('get_my_profile');
    assert.equal(result.isError, undefined, text(result));
    assert.equal(harness.audit.filter(event => event.event === 'handshake').length, 2);
  });

  it('says clearly, and quickly, when the broker is gone', async () => {
    await harness.broker.stop();
    const started = Date.now();
    const gone = await call('get_my_profile');
    assert.equal(gone.isError, true);
    assert.match(text(gone), /not reachable.*reload/i);
    assert.ok(Date.now() - started < 5_000);
  });
});
