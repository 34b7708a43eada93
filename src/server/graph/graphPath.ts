/**
 * Validation of the relative Graph paths `graph_get` accepts. The path comes from the model,
 * which may have read hostile content: anything that could leave the Graph host, climb out
 * of the API version, smuggle a query or split a header is refused before a request is made.
 */
export const GRAPH_VERSIONS = ['v1.0', 'beta'] as const;
export type GraphVersion = typeof GRAPH_VERSIONS[number];

export const MAX_GRAPH_PATH_LENGTH = 1024;

/** Characters Graph paths use: segments, OData keys `('id')`, drive paths `root:/a/b:`, aliases `@x`. */
const ALLOWED_CHARACTERS = /^[A-Za-z0-9/_\-.:'(),@=$!~+%]*$/;
/** Percent-encodings that would re-introduce separators, dots or control characters once decoded. */
const DANGEROUS_ENCODINGS = /%(2f|5c|2e|00|0[9ad]|25|3f|23)/i;

export class GraphPathError extends Error {}

/**
 * Returns the path to request (starting with `/`), or throws a GraphPathError whose message
 * says how to write the path instead.
 */
export function validateGraphPath(path: string, service = 'Microsoft Graph'): string {
  const trimmed = path.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_GRAPH_PATH_LENGTH) {
    throw new GraphPathError(`The path must be 1 to ${MAX_GRAPH_PATH_LENGTH} characters, e.g. "/me/messages".`);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed) || trimmed.startsWith('//') || trimmed.includes('\\')) {
    throw new GraphPathError(otherHostRefusal(service));
  }
  if (/[?#]/.test(trimmed)) {
    throw new GraphPathError('Put query options in the tool\'s arguments, not in the path.');
  }
  if (!ALLOWED_CHARACTERS.test(trimmed)) {
    throw new GraphPathError('The path contains characters Graph paths do not use (spaces, quotes other than \', control characters or line breaks). Percent-encode values inside parentheses.');
  }
  if (DANGEROUS_ENCODINGS.test(trimmed)) {
    throw new GraphPathError('Encoded slashes, backslashes, dots, percent signs, "?", "#" and control characters are refused in the path.');
  }
  const withSlash = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  const segments = withSlash.slice(1).split('/');
  // No root segment of Graph or ARM has a dot; a first segment like "evil.example" is a host.
  if (segments[0].includes('.')) {
    throw new GraphPathError(otherHostRefusal(service));
  }
  if (segments.some(segment => segment === '' || segment === '.' || segment === '..')) {
    throw new GraphPathError('Empty, "." and ".." path segments are refused.');
  }
  if (service === 'Microsoft Graph' && (GRAPH_VERSIONS as readonly string[]).includes(segments[0].toLowerCase())) {
    throw new GraphPathError(`Leave the API version out of the path ("/me", not "/${segments[0]}/me") and use the version argument.`);
  }
  return withSlash;
}

function otherHostRefusal(service: string): string {
  return `Give a path relative to ${service}, such as "${service === 'Microsoft Graph' ? '/me/events' : '/subscriptions'}"; absolute URLs and other hosts are refused.`;
}

/**
 * The URL a validated path resolves to, checked once more after URL normalisation: it must stay
 * on the Graph endpoint's origin and under the version's root.
 */
export function graphUrl(endpoint: string, version: GraphVersion, path: string): URL {
  const base = new URL(endpoint);
  const root = `${base.pathname.replace(/\/+$/, '')}/${version}/`;
  const url = new URL(`${base.origin}${root}${path.slice(1)}`);
  if (url.origin !== base.origin || !url.pathname.startsWith(root)) {
    throw new GraphPathError('The path resolves outside Microsoft Graph and was refused.');
  }
  return url;
}
