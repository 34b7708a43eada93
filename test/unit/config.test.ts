import * as assert from 'node:assert/strict';
import { formatAuditEvent, redactCredentials } from '../../src/extension/audit';
import { readServerConfig } from '../../src/server/config';
import { parseHttpsEndpoint } from '../../src/shared/endpoints';
import { tokenExpiry, OPAQUE_TOKEN_LIFETIME_MS } from '../../src/shared/jwt';
import { validateTenant } from '../../src/shared/tenant';
import { makeFakeToken } from '../helpers/tokens';

const SECRET = 'ab'.repeat(32);

describe('configuration and audit', () => {
  it('reads the server environment and accepts only https endpoints', () => {
    const config = readServerConfig({ ENTRA_MCP_BROKER: '/tmp/x/b.sock', ENTRA_MCP_BROKER_SECRET: SECRET, ENTRA_MCP_GRAPH_ENDPOINT: 'https://graph.microsoft.us/', ENTRA_MCP_ARM_ENDPOINT: 'https://management.usgovcloudapi.net' });
    assert.equal(config.graphEndpoint, 'https://graph.microsoft.us');
    assert.throws(() => readServerConfig({ ENTRA_MCP_BROKER: '/x', ENTRA_MCP_BROKER_SECRET: SECRET, ENTRA_MCP_GRAPH_ENDPOINT: 'http://graph.microsoft.com', ENTRA_MCP_ARM_ENDPOINT: 'https://management.azure.com' }), /https/);
    assert.throws(() => readServerConfig({}), /ENTRA_MCP_BROKER is not set/);
    assert.throws(() => readServerConfig({ ENTRA_MCP_BROKER: '/x', ENTRA_MCP_BROKER_SECRET: 'short', ENTRA_MCP_GRAPH_ENDPOINT: 'https://a', ENTRA_MCP_ARM_ENDPOINT: 'https://b' }), /32 random bytes/);
  });

  it('refuses endpoints with credentials, queries or other schemes', () => {
    assert.equal(parseHttpsEndpoint('https://127.0.0.1:8443', 'x'), 'https://127.0.0.1:8443');
    for (const bad of ['ftp://x', 'https://user:pw@graph.microsoft.com', 'https://graph.microsoft.com/?a=1', 'not a url', 'file:///etc/passwd']) {
      assert.throws(() => parseHttpsEndpoint(bad, 'entraMcp.graphEndpoint'), /entraMcp\.graphEndpoint/);
    }
  });

  it('reads expiry from the token, and assumes a short life for opaque tokens', () => {
    const now = Date.now();
    assert.equal(tokenExpiry(makeFakeToken({ exp: 2_000_000_000 }), now), 2_000_000_000_000);
    assert.equal(tokenExpiry('opaque-token', now), now + OPAQUE_TOKEN_LIFETIME_MS);
  });

  it('accepts tenant ids, domains and the multi-tenant authorities only', () => {
    for (const tenant of ['organizations', 'common', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', ' contoso.com ']) {
      assert.equal(validateTenant(tenant), undefined, tenant);
    }
    for (const tenant of ['', 'contoso', 'https://login.microsoftonline.com/x', 'a b.com', '../x', 'consumers;drop']) {
      assert.match(validateTenant(tenant) ?? '', /tenant id/, tenant);
    }
  });

  it('formats audit lines without tokens or secrets', () => {
    const token = makeFakeToken({ exp: 1, upn: 'a@b.c' });
    const line = formatAuditEvent({ event: 'token', outcome: 'failed', tool: 'graph_get', scopes: ['Mail.Read'], latencyMs: 12.4, detail: `provider said ${token} and ${SECRET}` });
    assert.ok(!line.includes(token));
    assert.ok(!line.includes(SECRET));
    assert.match(line, /audit token outcome=failed tool=graph_get scopes="Mail.Read" latency=12ms/);
    assert.equal(redactCredentials('nothing secret'), 'nothing secret');
  });
});
