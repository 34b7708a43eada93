/** A tenant or client id. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * Checks a tenant as `entraMcp.tenant` accepts it: a tenant id, a verified domain, or one of the
 * multi-tenant authorities. Returns the problem to show, or undefined when valid.
 */
export function validateTenant(value: string): string | undefined {
  const tenant = value.trim();
  if (tenant === 'organizations' || tenant === 'common' || GUID.test(tenant) || DOMAIN.test(tenant)) {
    return undefined;
  }
  return 'Enter a tenant id (GUID), a domain such as contoso.onmicrosoft.com, "organizations" or "common".';
}
