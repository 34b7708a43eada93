/**
 * Checks a recorded request against Microsoft's own descriptions (trimmed copies in
 * test/fixtures/microsoft): the Graph v1.0 CSDL, the Graph permissions data and the ARM paths.
 * Each check answers a list of problems, empty when the request is documented.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ARM_DEFAULT_SCOPE, ToolScopeDeclaration } from '../../src/shared/toolCatalogue';
import type { RecordedRequest } from './fakeGraph';

interface CsdlType { kind: 'entity' | 'complex'; base?: string; properties: Record<string, string>; navigation: Record<string, string> }
interface CsdlOperation { name: string; kind: 'Action' | 'Function'; bound: boolean; parameters: Record<string, string>; returns?: string }
interface Csdl { roots: Record<string, string>; types: Record<string, CsdlType>; operations: CsdlOperation[] }
interface PermissionEntry { requiresAdminConsent: boolean; privilegeLevel: number; pathSets: { methods: string[]; paths: Record<string, string> }[] }

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'microsoft');
const load = <T>(name: string): T => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
const CSDL = load<Csdl>('graph-v1.0-csdl.json');
const PERMISSIONS = load<{ permissions: Record<string, PermissionEntry> }>('graph-permissions.json').permissions;
const ARM_PATHS = load<{ paths: Record<string, string[]> }>('arm-resources.json').paths;

/** The tool's scopes are deliberately not the least-privileged ones documented for the path. */
export interface ScopeException { readonly reason: string }

const elementType = (type: string): string => type.replace(/^Collection\((.*)\)$/, '$1');
const isCollection = (type: string): boolean => type.startsWith('Collection(');

function baseChain(type: string): CsdlType[] {
  const chain: CsdlType[] = [];
  for (let name: string | undefined = type; name && CSDL.types[name]; name = CSDL.types[name].base) { chain.push(CSDL.types[name]); }
  return chain;
}

/** The type of a property or navigation property of `type` (base types included). */
function memberType(type: string, member: string): string | undefined {
  for (const entry of baseChain(type)) {
    const found = entry.properties[member] ?? entry.navigation[member];
    if (found) { return found; }
  }
  return undefined;
}

function boundOperation(name: string, bindingType: string): CsdlOperation | undefined {
  return CSDL.operations.find(op => op.bound && op.name === name && Object.values(op.parameters)[0] === bindingType);
}

export interface ResolvedPath {
  /** The permissions data's spelling: lower case, `{id}` for keys, function parameters dropped. */
  template: string;
  type: string;
  operation?: CsdlOperation;
  stream?: boolean;
}

/** Resolves a Graph v1.0 path segment by segment: entity sets, singletons, keys, navigation, casts, bound operations. */
export function resolveGraphPath(rawPath: string): ResolvedPath | string {
  // OneDrive's path-based addressing (`root:/folder/file:`) names a driveItem; the permissions data writes it `root:/{id}:`.
  const addressed = rawPath.replace(/^\/v1\.0/, '').replace(/\/root:\/[^:]*:/, '/root:ITEM');
  const segments = addressed.split('/').slice(1).map(segment => decodeURIComponent(segment));
  const template: string[] = [];
  const rootType = CSDL.roots[segments[0]];
  if (!rootType) { return `"${segments[0]}" is no entity set or singleton`; }
  let type = rootType;
  let operation: CsdlOperation | undefined;
  template.push(segments[0]);
  for (const segment of segments.slice(1)) {
    if (operation && operation.kind === 'Action') { return `nothing follows the action ${operation.name}`; }
    if (segment === 'root:ITEM') {
      if (elementType(memberType(type, 'root') ?? '') !== 'driveItem') { return `"root:" path addressing outside a drive (on ${type})`; }
      type = 'driveItem'; template.push('root:', '{id}:'); continue;
    }
    const call = segment.match(/^(\w+)\((.*)\)$/);
    const name = call ? call[1] : segment.replace(/^microsoft\.graph\./, '');
    const cast = segment.startsWith('microsoft.graph.') && CSDL.types[name];
    if (cast) {
      if (!baseChain(name).some(entry => entry === CSDL.types[elementType(type)])) { return `${name} does not derive from ${elementType(type)}`; }
      type = isCollection(type) ? `Collection(${name})` : name;
      template.push(segment); continue;
    }
    const op = boundOperation(name, type);
    if (op) {
      if (call && op.kind !== 'Function') { return `${name} is an action, called with parameters`; }
      operation = op; type = op.returns ?? type; template.push(name); continue;
    }
    const member = isCollection(type) ? undefined : memberType(type, segment);
    if (member === 'Edm.Stream') { template.push(segment); return { template: `/${template.join('/')}`.toLowerCase(), type, stream: true }; }
    if (member) { type = member; template.push(segment); continue; }
    if (isCollection(type)) { type = elementType(type); template.push('{id}'); continue; }
    return `"${segment}" is no navigation property, cast or bound operation of ${type}`;
  }
  return { template: `/${template.join('/')}`.toLowerCase().replace('/root:/{id}:', '/root:/{id}:'), type, operation };
}

/**
 * A property of the type or of a type derived from it. Navigation to directoryObject (manager,
 * memberOf, members) answers users and groups, and Graph applies $select of their properties
 * without a cast segment (strict OData would want `microsoft.graph.user/displayName`); the
 * Graph docs select user properties on /me/manager that way.
 */
function memberOrDerivedType(type: string, member: string): string | undefined {
  const own = memberType(type, member);
  if (own) { return own; }
  const derived = Object.keys(CSDL.types).filter(name => name !== type && baseChain(name).includes(CSDL.types[type]));
  return derived.map(name => memberType(name, member)).find(Boolean);
}

/** Checks a property path (`from/emailAddress/address`) against a type, base types and complex types included. */
function propertyPathProblem(type: string, propertyPath: string): string | undefined {
  let current = elementType(type);
  for (const member of propertyPath.split('/')) {
    const found = memberOrDerivedType(current, member);
    if (!found) { return `"${propertyPath}": ${current} has no property "${member}"`; }
    current = elementType(found);
  }
  return undefined;
}

const FILTER_WORDS = new Set(['and', 'or', 'not', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'has', 'true', 'false', 'null', 'asc', 'desc']);

/** Property paths a $filter names: identifiers outside string literals that are no operator, literal or function name. */
function filterProperties(filter: string): string[] {
  const withoutStrings = filter.replace(/'(?:[^']|'')*'/g, "''");
  return [...withoutStrings.matchAll(/(?<![\w:.-])([A-Za-z_][\w/]*)(?!\s*\()/g)]
    .map(match => match[1]).filter(word => !FILTER_WORDS.has(word.toLowerCase()));
}

/** Query options Graph's OData layer defines; calendarView's window is documented on that API's page, not in the CSDL. */
const ODATA_OPTIONS = new Set(['$select', '$filter', '$orderby', '$top', '$skip', '$expand', '$search', '$count', '$skiptoken']);
const NAVIGATION_PARAMETERS: Record<string, readonly string[]> = { calendarview: ['startDateTime', 'endDateTime'] };

function queryProblems(resolved: ResolvedPath, query: URLSearchParams): string[] {
  const problems: string[] = [];
  const last = resolved.template.split('/').pop() ?? '';
  for (const [name, value] of query) {
    if (!ODATA_OPTIONS.has(name) && !(NAVIGATION_PARAMETERS[last] ?? []).includes(name)) { problems.push(`query option ${name} is not documented here`); continue; }
    const names = name === '$select' || name === '$expand' ? value.split(',')
      : name === '$orderby' ? value.split(',').map(part => part.trim().split(/\s+/)[0])
        : name === '$filter' ? filterProperties(value) : [];
    for (const property of names) {
      const problem = propertyPathProblem(resolved.type, property.trim());
      if (problem) { problems.push(`${name} ${problem}`); }
    }
  }
  return problems;
}

/** Every member of a written object is a property of its type, complex values checked the same way. */
function bodyValueProblems(value: unknown, type: string, where: string): string[] {
  const name = elementType(type);
  if (Array.isArray(value)) { return value.flatMap((item, index) => bodyValueProblems(item, name, `${where}[${index}]`)); }
  if (!value || typeof value !== 'object' || !CSDL.types[name]) { return []; }
  return Object.entries(value as Record<string, unknown>).flatMap(([member, memberValue]) => {
    const found = memberType(name, member);
    return found ? bodyValueProblems(memberValue, found, `${where}.${member}`) : [`body ${where}.${member}: ${name} has no property "${member}"`];
  });
}

function methodAndBodyProblems(resolved: ResolvedPath, request: RecordedRequest): string[] {
  const { operation } = resolved;
  if (request.method === 'GET') {
    return operation?.kind === 'Action' ? [`GET on the action ${operation.name} (actions are POSTed)`] : [];
  }
  if (request.method !== 'POST') { return [`${request.method} is not checked here`]; }
  if (operation?.kind === 'Action') {
    // The CSDL spells some parameters in Pascal case (sendMail's `Message`, reply's `Comment`) where
    // the docs write camel case; Graph matches action parameter names case-insensitively.
    const parameters = Object.fromEntries(Object.entries(operation.parameters).slice(1).map(([name, type]) => [name.toLowerCase(), type]));
    return Object.entries((request.body ?? {}) as Record<string, unknown>).flatMap(([name, value]) => parameters[name.toLowerCase()]
      ? bodyValueProblems(value, parameters[name.toLowerCase()], name)
      : [`body: ${name} is no parameter of ${operation.name}`]);
  }
  if (operation || !isCollection(resolved.type)) { return ['POST goes to an action or an entity collection']; }
  return bodyValueProblems(request.body, resolved.type, '');
}

/** Path, method, query options and body of one Graph request. */
export function checkGraphRequest(request: RecordedRequest): { problems: string[]; resolved?: ResolvedPath } {
  const resolved = resolveGraphPath(request.path);
  if (typeof resolved === 'string') { return { problems: [`${request.method} ${request.path}: ${resolved}`] }; }
  const problems = [...methodAndBodyProblems(resolved, request), ...queryProblems(resolved, request.query)];
  return { problems: problems.map(problem => `${request.method} ${resolved.template}: ${problem}`), resolved };
}

/**
 * The spellings the permissions data may list a path under (the same as scripts/trimDescriptions.mjs
 * keeps): a type cast segment is usually absent, many /me paths are listed only as /users/{id},
 * and /me/drive paths only as /drives/{id}. The data does not say these are the same resource;
 * Graph's docs do (/me is the signed-in user, /me/drive that user's OneDrive).
 */
export function permissionSpellings(template: string): string[] {
  const lower = template.replace(/\/microsoft\.graph\.\w+/g, '');
  return [template, lower, lower.replace(/^\/me(?=\/|$)/, '/users/{id}'), lower.replace(/^\/me\/drive(?=\/|$)/, '/drives/{id}')];
}

/**
 * The permissions documented for a path and method, and which of them are the least-privileged
 * delegated ones. A pathSet's `least=` marker belongs to all its methods together (Mail.ReadWrite
 * is marked least on a GET+POST set of /me/mailFolders/{id}/messages, which means POST): a marker
 * on a set with several methods counts only when no set with this method alone carries one.
 */
export function documentedPermissions(template: string, method: string): { all: string[]; least: string[] } {
  const spellings = permissionSpellings(template);
  const all: string[] = []; const leastAlone: string[] = []; const leastShared: string[] = [];
  for (const [name, entry] of Object.entries(PERMISSIONS)) {
    for (const set of entry.pathSets) {
      if (!set.methods.includes(method)) { continue; }
      const marker = spellings.map(spelling => set.paths[spelling]).find(value => value !== undefined);
      if (marker === undefined) { continue; }
      all.push(name);
      if (/least=[^ ]*DelegatedWork/.test(marker)) { (set.methods.length === 1 ? leastAlone : leastShared).push(name); }
    }
  }
  return { all: [...new Set(all)], least: [...new Set(leastAlone.length > 0 ? leastAlone : leastShared)] };
}

/**
 * Fields a "basic" permission does not cover, from the permissions data's own descriptions
 * (Mail.ReadBasic: "except body, previewBody, attachments and any extended properties";
 * Calendars.ReadBasic: "except for properties such as body, attachments, and extensions").
 * A least-privileged permission that excludes a field the request selects does not suffice.
 */
const BASIC_EXCLUDES: Record<string, readonly string[]> = {
  'mail.readbasic': ['body', 'bodypreview', 'uniquebody', 'attachments', 'singlevalueextendedproperties', 'multivalueextendedproperties'],
  'calendars.readbasic': ['body', 'bodypreview', 'uniquebody', 'attachments', 'extensions'],
};

function coversSelection(permission: string, query: URLSearchParams): boolean {
  const excluded = BASIC_EXCLUDES[permission.toLowerCase()] ?? [];
  const named = [query.get('$select') ?? '', query.get('$expand') ?? ''].join(',').toLowerCase().split(',');
  return !named.some(name => excluded.includes(name.trim()));
}

/**
 * The tool's declared scopes against the documented delegated permissions for the path. A
 * pathSet's `least=` marker belongs to all the set's methods together (Mail.ReadWrite is marked
 * least for GET and POST of /me/mailFolders/{id}/messages, meaning POST), so a least-privileged
 * candidate is any marked one that covers the fields the request selects; the tool must declare
 * one of them unless it has an exception with its reason.
 */
export function checkScopes(tool: ToolScopeDeclaration, resolved: ResolvedPath, request: RecordedRequest, exception?: ScopeException): string[] {
  const { method } = request;
  const declared = [...tool.scopes, ...(tool.optionalScopes ?? [])].map(scope => scope.toLowerCase());
  const { all, least } = documentedPermissions(resolved.template, method);
  if (all.length === 0) { return [`${method} ${resolved.template}: no delegated permission documented`]; }
  if (!all.some(name => declared.includes(name.toLowerCase()))) { return [`${method} ${resolved.template}: declares ${tool.scopes.join(', ')}; documented: ${all.join(', ')}`]; }
  const sufficient = least.filter(name => coversSelection(name, request.query));
  if (!exception && sufficient.length > 0 && !sufficient.some(name => declared.includes(name.toLowerCase()))) {
    return [`${method} ${resolved.template}: declares ${tool.scopes.join(', ')}; least privileged documented: ${sufficient.join(', ')}`];
  }
  return [];
}

/** `true` when this permission is documented as needing an administrator's consent (delegated, work accounts). */
export function requiresAdminConsent(permission: string): boolean | undefined {
  return PERMISSIONS[permission]?.requiresAdminConsent;
}

const ARM_OPTIONS = new Set(['api-version', '$top', '$skiptoken', '$filter', '$expand']);

function armTemplateMatches(template: string, segments: string[]): boolean {
  const parts = template.split('/').slice(1);
  const match = (t: number, s: number): boolean => {
    if (t === parts.length) { return s === segments.length; }
    // {parentResourcePath} is zero or more segments (the spec marks it x-ms-skip-url-encoding).
    if (parts[t] === '{parentResourcePath}') { return [...Array(segments.length - s + 1).keys()].some(skip => match(t + 1, s + skip)); }
    if (s === segments.length) { return false; }
    const fits = parts[t].startsWith('{') || parts[t].toLowerCase() === segments[s].toLowerCase();
    return fits && match(t + 1, s + 1);
  };
  return match(0, 0);
}

/** Path template, api-version and query options of one ARM request, and the ARM scope. */
export function checkArmRequest(tool: ToolScopeDeclaration, request: RecordedRequest): string[] {
  const segments = request.path.split('/').slice(1).map(segment => decodeURIComponent(segment));
  const template = Object.keys(ARM_PATHS).find(candidate => armTemplateMatches(candidate, segments));
  if (!template) { return [`${request.method} ${request.path}: no ARM path template in Microsoft.Resources matches`]; }
  const problems: string[] = [];
  if (request.method !== 'GET') { problems.push(`${request.method} ${template}: only GET is checked`); }
  const version = request.query.get('api-version') ?? '';
  const versions = ARM_PATHS[template];
  if (!(versions.includes(version) || (versions.includes('*') && /^\d{4}-\d{2}-\d{2}(-preview)?$/.test(version)))) { problems.push(`${template}: api-version ${version || '(none)'} is not one the spec defines (${versions.join(', ')})`); }
  for (const name of request.query.keys()) { if (!ARM_OPTIONS.has(name)) { problems.push(`${template}: query option ${name}`); } }
  if (!tool.scopes.includes(ARM_DEFAULT_SCOPE)) { problems.push(`${tool.name} calls ARM without declaring ${ARM_DEFAULT_SCOPE}`); }
  return problems;
}
