/**
 * The one rule for a remote MCP server's URL, applied where the user configures it (discovery,
 * in the extension) and where the bridge is started with it: https, and nothing in it that could
 * carry a credential or change what the broker looks the server up by. Answers the URL, or a
 * message saying what is wrong with it.
 */
export function parseRemoteUrl(value: string): URL | string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return `"${value.slice(0, 200)}" is not a URL. Use the server's https:// MCP endpoint, e.g. https://mcp.contoso.com/mcp.`;
  }
  if (url.protocol !== 'https:') {
    return `${url.href} must be an https:// URL: a token never travels unencrypted.`;
  }
  if (url.username || url.password || url.search || url.hash) {
    return `${url.href} must be a plain https:// URL without credentials, query or fragment.`;
  }
  return url;
}
