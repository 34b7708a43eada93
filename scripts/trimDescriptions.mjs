#!/usr/bin/env node
/**
 * Trims Microsoft's published API descriptions to what the request-conformance test checks, so
 * the fixtures stay small and reviewable:
 *
 *   node scripts/trimDescriptions.mjs <cleanMetadata.xml> <permissions.json> <output dir>
 *
 * cleanMetadata.xml: microsoftgraph/msgraph-metadata, clean_v10_metadata/cleanMetadata.xml (Graph v1.0 CSDL).
 * permissions.json: microsoftgraph/microsoft-graph-devx-content, permissions/new/permissions.json.
 * Keeps the types, navigation properties and bound operations reachable along TOOL_PATHS (with
 * base-type chains and the complex types their properties use) and the permissions whose
 * delegated path sets name one of those paths.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The path templates the tools send ({id} for a key; a segment after a key-less collection is a key). */
export const TOOL_PATHS = [
  '/me', '/me/manager', '/me/memberOf/microsoft.graph.group', '/me/people', '/users/{id}',
  '/groups/{id}/members/microsoft.graph.user', '/me/mailFolders', '/me/mailFolders/{id}/messages',
  '/me/messages/{id}', '/me/sendMail', '/me/messages/{id}/reply', '/me/calendarView', '/me/events',
  '/me/events/{id}', '/me/findMeetingTimes', '/me/drive/root/search', '/me/drive/root/children',
  '/me/drive/items/{id}', '/me/drive/items/{id}/content', '/me/joinedTeams', '/teams/{id}/channels',
  '/teams/{id}/channels/{id}/messages', '/me/chats', '/me/chats/{id}/messages', '/chats/{id}/messages',
  '/me/todo/lists', '/me/todo/lists/{id}/tasks',
  // Not requested as a path, but list_chats orders by it and expands it.
  '/me/chats/{id}/lastMessagePreview',
];

const [csdlPath, permissionsPath, outDir] = process.argv.slice(2);
if (!csdlPath || !permissionsPath || !outDir) {
  console.error('usage: node scripts/trimDescriptions.mjs <cleanMetadata.xml> <permissions.json> <output dir>');
  process.exit(2);
}

const shortName = type => type.replace(/^Collection\((.*)\)$/, '$1').replace(/^(microsoft\.)?graph\./, '');
const attrs = line => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map(match => [match[1], match[2]]));

function parseCsdl(xml) {
  const types = {}; const operations = []; const roots = {};
  let current;
  // The file holds several schemas (microsoft.graph and its sub-namespaces, which reuse names such as `user`).
  let inGraphSchema = false;
  for (const line of xml.split('\n')) {
    const tag = line.trim().match(/^<(\/?)(\w+)/);
    if (!tag) { continue; }
    const [, closing, name] = tag;
    const a = attrs(line);
    if (name === 'Schema') { inGraphSchema = !closing && a.Namespace === 'microsoft.graph'; continue; }
    if (!inGraphSchema) { continue; }
    if (closing) {
      if (['EntityType', 'ComplexType', 'Action', 'Function'].includes(name)) { current = undefined; }
      continue;
    }
    if (name === 'EntityType' || name === 'ComplexType') {
      current = types[a.Name] = { kind: name === 'EntityType' ? 'entity' : 'complex', base: a.BaseType ? shortName(a.BaseType) : undefined, properties: {}, navigation: {} };
      if (line.trim().endsWith('/>')) { current = undefined; }
    } else if (name === 'Property' && current?.properties) {
      current.properties[a.Name] = a.Type.replace(/graph\./g, '');
    } else if (name === 'NavigationProperty' && current?.navigation) {
      current.navigation[a.Name] = a.Type.replace(/graph\./g, '');
    } else if (name === 'Action' || name === 'Function') {
      current = { name: a.Name, kind: name, bound: a.IsBound === 'true', parameters: {} };
      operations.push(current);
    } else if (name === 'Parameter' && current?.parameters) {
      current.parameters[a.Name] = a.Type.replace(/graph\./g, '');
    } else if (name === 'ReturnType' && current?.parameters) {
      current.returns = a.Type.replace(/graph\./g, '');
    } else if (name === 'EntitySet') {
      roots[a.Name] = `Collection(${shortName(a.EntityType)})`;
    } else if (name === 'Singleton') {
      roots[a.Name] = shortName(a.Type);
    }
  }
  return { types, operations, roots };
}

/** Walks each tool path and returns the entity types it passes through (key segments included). */
function reachedTypes(csdl) {
  const reached = new Set();
  const lookup = (type, member) => {
    for (let t = type; t; t = csdl.types[t]?.base) {
      const nav = csdl.types[t]?.navigation[member];
      if (nav) { return nav; }
    }
    const bound = csdl.operations.find(op => op.bound && op.name === member && shortName(Object.values(op.parameters)[0]) === type);
    return bound?.returns;
  };
  for (const path of TOOL_PATHS) {
    const [root, ...rest] = path.slice(1).split('/');
    let type = csdl.roots[root];
    let collection = type.startsWith('Collection(');
    type = shortName(type); reached.add(type);
    for (const segment of rest) {
      if (collection && segment === '{id}') { collection = false; continue; }
      if (segment.startsWith('microsoft.graph.')) { type = shortName(segment); reached.add(type); continue; }
      const next = lookup(type, segment);
      if (!next) { continue; }
      collection = next.startsWith('Collection('); type = shortName(next); reached.add(type);
    }
  }
  return reached;
}

function trimCsdl(csdl) {
  const keep = new Set();
  const add = name => {
    const type = shortName(name);
    if (keep.has(type) || !csdl.types[type]) { return; }
    keep.add(type);
    const entry = csdl.types[type];
    if (entry.base) { add(entry.base); }
    // Complex-typed properties are named in $select/$filter paths (start/dateTime, from/emailAddress/address).
    for (const propertyType of Object.values(entry.properties)) {
      if (csdl.types[shortName(propertyType)]?.kind === 'complex') { add(propertyType); }
    }
  };
  const reached = reachedTypes(csdl);
  for (const type of reached) { add(type); }
  const boundToKept = op => op.bound && reached.has(shortName(Object.values(op.parameters)[0]));
  const operations = csdl.operations.filter(boundToKept);
  for (const op of operations) { for (const type of Object.values(op.parameters)) { add(type); } }
  const types = Object.fromEntries([...keep].sort().map(name => {
    const { kind, base, properties, navigation } = csdl.types[name];
    // Navigation targets outside the kept set are kept by name only: a path segment still resolves.
    return [name, { kind, base, properties, navigation }];
  }));
  const roots = Object.fromEntries(Object.entries(csdl.roots).filter(([name]) => TOOL_PATHS.some(path => path.split('/')[1] === name)));
  return { roots, types, operations };
}

/**
 * Permissions' paths are lower case, with `{id}` (or `{item-path}`, `{value}`) for every key and
 * function parameter (written `search(q={value})`); the fixture keeps them normalised: `{id}`
 * for every placeholder, function parameters dropped.
 */
export const normalisePath = path => path.toLowerCase().replace(/\{[^}]*\}/g, '{id}').replace(/\([^)]*\)/g, '');

/**
 * The spellings the data may list a tool path under: a type cast segment is usually absent, /me
 * paths are often listed only as /users/{id}, and /me/drive paths only as /drives/{id}. The test's
 * checker tries the same spellings (test/helpers/graphDescriptions.ts, permissionSpellings).
 */
export const spellings = path => {
  const lower = normalisePath(path).replace(/\/microsoft\.graph\.\w+/g, '');
  return [normalisePath(path), lower, lower.replace(/^\/me(?=\/|$)/, '/users/{id}'), lower.replace(/^\/me\/drive(?=\/|$)/, '/drives/{id}')];
};

function trimPermissions(permissions) {
  const wanted = new Set([...TOOL_PATHS, '/me/drive/root:/{id}:/children'].flatMap(spellings));
  const kept = {};
  for (const [name, permission] of Object.entries(permissions.permissions)) {
    const delegated = permission.schemes?.DelegatedWork;
    if (!delegated) { continue; }
    const pathSets = (permission.pathSets ?? [])
      .filter(set => set.schemeKeys.includes('DelegatedWork'))
      .map(set => ({ methods: set.methods, paths: Object.fromEntries(Object.entries(set.paths).map(([path, marker]) => [normalisePath(path), marker]).filter(([path]) => wanted.has(path))) }))
      .filter(set => Object.keys(set.paths).length > 0);
    if (pathSets.length > 0) {
      kept[name] = { requiresAdminConsent: delegated.requiresAdminConsent, privilegeLevel: delegated.privilegeLevel, pathSets };
    }
  }
  return { permissions: kept };
}

const csdl = trimCsdl(parseCsdl(readFileSync(csdlPath, 'utf8')));
writeFileSync(join(outDir, 'graph-v1.0-csdl.json'), `${JSON.stringify(csdl)}\n`);
const permissions = trimPermissions(JSON.parse(readFileSync(permissionsPath, 'utf8')));
writeFileSync(join(outDir, 'graph-permissions.json'), `${JSON.stringify(permissions, null, 1)}\n`);
console.log(`${Object.keys(csdl.types).length} types, ${csdl.operations.length} operations, ${Object.keys(permissions.permissions).length} permissions`);
