// Rewrites the README's tools table from the server's tools (`npm run docs:tools`).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './vscodeHost.mjs';

const require = createRequire(import.meta.url);
const { renderToolsTable, withToolsTable } = require(join(ROOT, 'out', 'src', 'server', 'toolsTable.js'));
const readmePath = join(ROOT, 'README.md');
writeFileSync(readmePath, withToolsTable(readFileSync(readmePath, 'utf8'), await renderToolsTable()));
console.log('README tools table updated.');
