/**
 * Parses a user- or environment-supplied service endpoint. Only `https:` is accepted:
 * a bearer token must never travel in clear text, whatever the configuration says.
 * Returns the origin plus any base path, without a trailing slash.
 */
export function parseHttpsEndpoint(value: string, settingName: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`${settingName} is not a valid URL ("${value}"). Use an https:// URL such as https://graph.microsoft.com.`);
  }
  if (url.protocol !== 'https:') {
    throw new Error(`${settingName} must be an https:// URL; "${url.protocol}" is refused because tokens must not travel unencrypted.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error(`${settingName} must be a plain https:// base URL without credentials, query or fragment.`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The host name without port: what the Graph client's customHosts check compares against. */
export function hostnameOf(endpoint: string): string {
  return new URL(endpoint).hostname;
}
