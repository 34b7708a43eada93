import * as vscode from 'vscode';
import { TokenService } from '../auth/tokenService';
import { validateTenant } from '../../shared/tenant';
import { SECTION } from '../settings';

/** Select Tenant: writes entraMcp.tenant; the settings listener purges cached tokens. */
export async function selectTenant(tokens: TokenService): Promise<void> {
  const status = tokens.status();
  type Pick = vscode.QuickPickItem & { tenant?: string };
  const items: Pick[] = [
    { label: 'organizations', description: 'Any work or school account (default)', tenant: 'organizations' },
    { label: 'common', description: 'Work, school or personal Microsoft account', tenant: 'common' },
  ];
  if (status.tenantId && !items.some(item => item.tenant === status.tenantId)) {
    items.push({ label: status.tenantId, description: 'Tenant of your current sign-in', tenant: status.tenantId });
  }
  items.push({ label: '$(edit) Enter a tenant id or domain…' });
  for (const item of items) {
    if (item.tenant === status.tenant) { item.description = `${item.description} · current`; }
  }
  const choice = await vscode.window.showQuickPick(items, { title: 'Entra MCP: Select Tenant', placeHolder: `Current: ${status.tenant}` });
  if (!choice) {
    return;
  }
  const tenant = choice.tenant ?? await vscode.window.showInputBox({
    title: 'Entra MCP: Select Tenant', prompt: 'Tenant id or domain', value: status.tenant, validateInput: validateTenant,
  });
  if (!tenant) {
    return;
  }
  await vscode.workspace.getConfiguration(SECTION).update('tenant', tenant.trim(), vscode.ConfigurationTarget.Global);
  void vscode.window.showInformationMessage(`Entra MCP: tenant set to ${tenant.trim()}. Cached tokens were cleared.`);
}
