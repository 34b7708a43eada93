/**
 * The extension's settings, read fresh each time (VS Code caches configuration) and resolved
 * into what the token service and the server need.
 */
import * as vscode from 'vscode';
import { CloudDescription, cloudFromSovereignSetting } from '../shared/clouds';
import { parseHttpsEndpoint } from '../shared/endpoints';
import { isWellFormedScope } from '../shared/scopes';
import { ToolSelection } from '../shared/toolCatalogue';
import { AuthSettings } from './auth/tokenService';

export const SECTION = 'entraMcp';

export interface ExtensionSettings extends AuthSettings {
  readonly additionalScopes: readonly string[];
  /** Raw endpoint overrides; resolve with serviceEndpoints(). */
  readonly graphEndpointOverride: string;
  readonly armEndpointOverride: string;
  readonly tools: ToolSelection;
}

export function readSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const sovereign = vscode.workspace.getConfiguration('microsoft-sovereign-cloud').get<string>('environment');
  const clientId = config.get<string>('clientId', '').trim();
  return {
    cloud: cloudFromSovereignSetting(sovereign),
    tenant: config.get<string>('tenant', 'organizations').trim() || 'organizations',
    clientId: clientId || undefined,
    promptForSignIn: config.get<boolean>('promptForSignIn', true),
    additionalScopes: config.get<string[]>('additionalScopes', []).filter(isWellFormedScope),
    graphEndpointOverride: config.get<string>('graphEndpoint', '').trim(),
    armEndpointOverride: config.get<string>('armEndpoint', '').trim(),
    tools: {
      allowWrites: config.get<boolean>('allowWrites', false),
      enabledTools: config.get<string[]>('enabledTools', []).map(name => name.trim()).filter(Boolean),
    },
  };
}

export interface ServiceEndpoints {
  readonly graph: string;
  readonly arm: string;
}

/** Graph and ARM base URLs: the overrides if set (https only), else the cloud's own. */
export function serviceEndpoints(settings: ExtensionSettings): ServiceEndpoints {
  return {
    graph: endpoint(settings.graphEndpointOverride, settings.cloud, 'graphEndpoint'),
    arm: endpoint(settings.armEndpointOverride, settings.cloud, 'armEndpoint'),
  };
}

function endpoint(override: string, cloud: CloudDescription, key: 'graphEndpoint' | 'armEndpoint'): string {
  if (override) {
    return parseHttpsEndpoint(override, `${SECTION}.${key}`);
  }
  if (!cloud[key]) {
    throw new Error(`VS Code is set to a custom sovereign cloud; set ${SECTION}.${key} to its https:// endpoint.`);
  }
  return cloud[key];
}

/** Settings whose change means the server must be restarted with a new definition. */
export function affectsServerDefinition(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.graphEndpoint`)
    || event.affectsConfiguration(`${SECTION}.armEndpoint`)
    || event.affectsConfiguration(`${SECTION}.allowWrites`)
    || event.affectsConfiguration(`${SECTION}.enabledTools`)
    || event.affectsConfiguration('microsoft-sovereign-cloud.environment');
}

/** Settings whose change invalidates every cached token. */
export function affectsTokens(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(`${SECTION}.tenant`)
    || event.affectsConfiguration(`${SECTION}.clientId`)
    || event.affectsConfiguration('microsoft-sovereign-cloud');
}
