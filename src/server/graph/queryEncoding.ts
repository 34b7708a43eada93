/**
 * Percent-encoding for every query value a tool sets. The Graph SDK's query builder joins
 * `.filter()`, `.search()`, `.select()`, `.query({...})` values into the URL as they are, so a
 * `#` ends the URL, a `&` starts another option and a `+` (plus-addressing, `+05:30` offsets)
 * arrives as a space. Here each request's query string is rebuilt with every value encoded
 * (RFC 3986: `+` as %2B, space as %20), except values that came already encoded inside the
 * path itself, such as an `@odata.nextLink`.
 */
import { Client, GraphRequest } from '@microsoft/microsoft-graph-client';

type QueryValues = Record<string, string | number>;

/** The parts of the SDK's GraphRequest that build the URL (private in its typings). */
interface QueryParts {
  urlComponents: { oDataQueryParams: QueryValues; otherURLQueryParams: QueryValues; otherURLQueryOptions: string[] };
  createQueryString(): string;
}

/** Characters left as they are: unreserved ones, plus the few OData uses that are safe in a query (`$ , : @ /`). */
export function encodeQueryComponent(value: string): string {
  return encodeURIComponent(value).replace(/%(24|2C|3A|40|2F)/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Makes every request `client.api()` returns encode its query values. */
export function encodeQueryValues(client: Client): Client {
  const api = client.api.bind(client);
  client.api = (path: string) => withEncodedQuery(api(path));
  return client;
}

function withEncodedQuery(request: GraphRequest): GraphRequest {
  const parts = request as unknown as QueryParts;
  const { oDataQueryParams, otherURLQueryParams } = parts.urlComponents;
  // Values parsed out of the path are already encoded (a nextLink is a URL): they are kept byte for byte.
  const fromPath = new Map<string, string>([...Object.entries(oDataQueryParams), ...Object.entries(otherURLQueryParams)].map(([key, value]) => [key, String(value)]));
  parts.createQueryString = () => {
    const { urlComponents } = parts;
    const options = [...Object.entries(urlComponents.oDataQueryParams), ...Object.entries(urlComponents.otherURLQueryParams)]
      .map(([key, value]) => fromPath.get(key) === String(value) ? `${key}=${value}` : `${encodeQueryComponent(key)}=${encodeQueryComponent(String(value))}`);
    const all = [...options, ...urlComponents.otherURLQueryOptions];
    return all.length > 0 ? `?${all.join('&')}` : '';
  };
  return request;
}
