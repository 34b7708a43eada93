import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToolsTable, withToolsTable } from '../../src/server/toolsTable';

describe('README tools table', () => {
  it('matches the tools the server lists (run `npm run docs:tools` if this fails)', async () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    assert.equal(withToolsTable(readme, await renderToolsTable()), readme);
  });

  it('lists every tool with its permissions, whether they need admin consent, and read/write kind', async () => {
    const table = await renderToolsTable();
    assert.match(table, /\| `get_my_profile` \| .* \| `User\.Read` \| no \| read \|/);
    assert.match(table, /\| `auth_status` \| .* \| none \| no \| read \|/);
    assert.match(table, /\| `graph_get` \|/);
  });
});
