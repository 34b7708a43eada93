/**
 * The Microsoft clouds, the VS Code authentication provider that signs into each, and the
 * endpoints a token from it is good for.
 */
export type CloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud' | 'custom';

export interface CloudDescription {
  readonly name: CloudName;
  /** Human-readable name for status and errors. */
  readonly label: string;
  /** VS Code authentication provider id. */
  readonly providerId: 'microsoft' | 'microsoft-sovereign-cloud';
  /** Graph base URL (also the resource of Graph scopes). Empty for a custom cloud. */
  readonly graphEndpoint: string;
  /** Azure Resource Manager base URL. Empty for a custom cloud. */
  readonly armEndpoint: string;
  /** Entra ID's sign-in endpoint (authorities are `<it>/<tenant>/v2.0`). Empty for a custom cloud. */
  readonly loginEndpoint: string;
}

export const CLOUDS: Readonly<Record<CloudName, CloudDescription>> = {
  AzureCloud: {
    name: 'AzureCloud', label: 'Azure (public)', providerId: 'microsoft',
    graphEndpoint: 'https://graph.microsoft.com', armEndpoint: 'https://management.azure.com', loginEndpoint: 'https://login.microsoftonline.com',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment', label: 'Azure US Government', providerId: 'microsoft-sovereign-cloud',
    graphEndpoint: 'https://graph.microsoft.us', armEndpoint: 'https://management.usgovcloudapi.net', loginEndpoint: 'https://login.microsoftonline.us',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud', label: 'Azure China (21Vianet)', providerId: 'microsoft-sovereign-cloud',
    graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn', armEndpoint: 'https://management.chinacloudapi.cn', loginEndpoint: 'https://login.chinacloudapi.cn',
  },
  custom: {
    name: 'custom', label: 'Custom sovereign environment', providerId: 'microsoft-sovereign-cloud',
    graphEndpoint: '', armEndpoint: '', loginEndpoint: '',
  },
};

/**
 * Maps VS Code's `microsoft-sovereign-cloud.environment` setting to our cloud. An empty value
 * means the user has not chosen a sovereign cloud: the public cloud and the `microsoft` provider.
 */
export function cloudFromSovereignSetting(environment: string | undefined): CloudDescription {
  switch ((environment ?? '').trim()) {
    case '': return CLOUDS.AzureCloud;
    case 'USGovernment': return CLOUDS.AzureUSGovernment;
    case 'ChinaCloud': return CLOUDS.AzureChinaCloud;
    default: return CLOUDS.custom;
  }
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/**
 * Graph scopes are declared by their short names (`User.Read`), which Entra reads as Graph
 * scopes of the public cloud. A sovereign cloud's Graph is a different resource, so there the
 * scope is qualified with that cloud's Graph resource URI.
 */
export function qualifyScopeForCloud(scope: string, cloud: CloudDescription): string {
  if (isPublicArmScope(scope)) {
    return qualifyArmScopeForCloud(scope, cloud);
  }
  const isShortGraphScope = !scope.includes('/') && !scope.includes(':') && !OIDC_SCOPES.has(scope.toLowerCase());
  if (!isShortGraphScope || cloud.providerId === 'microsoft' || !cloud.graphEndpoint) {
    return scope;
  }
  return `${cloud.graphEndpoint}/${scope}`;
}

const PUBLIC_ARM_RESOURCE = 'https://management.azure.com/';

/** Scope names are case-insensitive in Entra, so `HTTPS://MANAGEMENT.AZURE.COM/.default` is ARM too. */
function isPublicArmScope(scope: string): boolean {
  return scope.toLowerCase().startsWith(PUBLIC_ARM_RESOURCE);
}

/**
 * ARM scopes are declared for the public cloud (`https://management.azure.com/.default`); a
 * sovereign cloud's Resource Manager is its own resource, so the prefix is swapped for it.
 */
export function qualifyArmScopeForCloud(scope: string, cloud: CloudDescription): string {
  if (!isPublicArmScope(scope) || cloud.providerId === 'microsoft' || !cloud.armEndpoint) {
    return scope;
  }
  return `${cloud.armEndpoint}/${scope.slice(PUBLIC_ARM_RESOURCE.length)}`;
}
