import * as assert from 'node:assert/strict';
import { McpHarness, resultText } from '../helpers/mcpHarness';

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema> };

/** A value of the wrong JSON type for a property of this schema. */
function wrongTypeFor(schema: JsonSchema): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': return 42;
    case 'number': case 'integer': return '42';
    case 'boolean': return 'true';
    case 'array': return 'not-a-list';
    default: return 'not-an-object';
  }
}

const OVERSIZED = 'a'.repeat(100_000);

describe('tool arguments: every schema rejects bad input before anything leaves the machine', () => {
  let mcp: McpHarness;
  let tools: Array<{ name: string; inputSchema: JsonSchema }>;
  before(async () => {
    mcp = await McpHarness.start();
    tools = (await mcp.client.listTools()).tools as typeof tools;
  });
  after(async () => { await mcp.stop(); });

  /** Calls the tool and checks the call was refused with a message naming `field`, and nothing was sent. */
  async function assertRefused(tool: string, args: Record<string, unknown>, field: string | RegExp): Promise<void> {
    const [graphBefore, tokensBefore] = [mcp.graph.requests.length, mcp.broker.tokenRequests.length];
    const result = await mcp.call(tool, args);
    const text = resultText(result);
    assert.equal(result.isError, true, `${tool} ${JSON.stringify(args).slice(0, 120)} was accepted: ${text.slice(0, 200)}`);
    assert.match(text, typeof field === 'string' ? new RegExp(`"${field}"|\\b${field}\\b`) : field, `${tool}: the error names what is wrong`);
    assert.equal(mcp.graph.requests.length, graphBefore, `${tool}: no request left the machine`);
    assert.equal(mcp.broker.tokenRequests.length, tokensBefore, `${tool}: no token was asked for`);
  }

  it('wrong types and oversized strings, for every property of every tool', async () => {
    let checked = 0;
    for (const tool of tools) {
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        await assertRefused(tool.name, { [field]: wrongTypeFor(schema) }, field);
        checked++;
        const types = Array.isArray(schema.type) ? schema.type : [schema.type];
        if (types.includes('string')) {
          await assertRefused(tool.name, { [field]: OVERSIZED }, field);
          checked++;
        } else if (types.includes('array')) {
          await assertRefused(tool.name, { [field]: Array.from({ length: 1000 }, () => OVERSIZED.slice(0, 100)) }, field);
          checked++;
        }
      }
    }
    assert.ok(checked >= 100, `checked ${checked} property cases`);
  });

  it('unknown arguments are not silently passed on', async () => {
    const result = await mcp.call('graph_get', { path: '/me', url: 'https://evil.example/' });
    // Either refused, or the extra field ignored: it must never reach the request.
    assert.ok(result.isError || mcp.graph.requests.every(request => !request.path.includes('evil')));
  });

  const ESCAPES = [
    'https://evil.example/steal', 'http://graph.microsoft.com/v1.0/me', 'HTTPS://graph.microsoft.com/v1.0/me', '//evil.example/x',
    'evil.example/me', 'evil.example', '/evil.example/me', '\\\\evil.example\\share', '/me\\..\\users',
    '/me/../../admin', '/me/%2e%2e/users', '/me/..%2fusers', '/me%2fmessages', '/me%5cmessages', '/me%252fmessages',
    '/me\r\nHost: evil.example', '/me%0d%0aX-Injected: 1', '/me\nX: y', '/me%00', '/me\u0000',
    '/me?$expand=manager', '/me#fragment', '/me;x=1', '/me/\u2215users',
  ];
  for (const path of ESCAPES) {
    it(`graph_get refuses ${JSON.stringify(path)} and sends nothing`, async () => {
      await assertRefused('graph_get', { path }, /path|refused|relative|query options|characters/i);
    });
  }
  const SUBSCRIPTION = '00000001-0000-4000-8000-000000000000';
  for (const path of [...ESCAPES.filter(path => !path.startsWith('/me')), '/me', `/subscriptions/${SUBSCRIPTION}/../../me`,
    `/subscriptions/${SUBSCRIPTION}%2f..%2fme`, `/subscriptions?$filter=x`, `/subscriptions/${SUBSCRIPTION}\r\nX: y`, '/providers/../me']) {
    it(`arm_get refuses ${JSON.stringify(path)} and sends nothing`, async () => {
      await assertRefused('arm_get', { path, apiVersion: '2023-01-01' }, /path|refused|relative|query|characters|ARM/i);
    });
  }
});
