/** `*` patterns (tool names, role grants, redirect URIs): `*` matches any characters, the rest literally, the whole value. */
export function wildcardMatches(pattern: string, value: string, options: { ignoreCase?: boolean } = {}): boolean {
  const expression = pattern.split('*').map(part => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${expression}$`, options.ignoreCase ? 'i' : '').test(value);
}
