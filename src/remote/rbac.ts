/**
 * App-role based access to the tools. Roles come from the `roles` claim of the caller's token
 * (app roles assigned to users or groups on the server's app registration); each role grants
 * tools by name or `*` pattern. By default `Tools.Read` grants the read-only tools and
 * `Tools.Write` the write tools, which are served at all only when writes are allowed.
 */
import { TOOL_CATALOGUE } from '../shared/toolCatalogue';
import { wildcardMatches } from '../shared/wildcard';

/** App role → tool names or `*` patterns it grants. */
export type RoleMap = Readonly<Record<string, readonly string[]>>;

export const READ_ROLE = 'Tools.Read';
export const WRITE_ROLE = 'Tools.Write';

export const DEFAULT_ROLE_MAP: RoleMap = {
  [READ_ROLE]: TOOL_CATALOGUE.filter(tool => tool.readOnly).map(tool => tool.name),
  [WRITE_ROLE]: TOOL_CATALOGUE.filter(tool => !tool.readOnly).map(tool => tool.name),
};

const ROLE_NAME = /^[A-Za-z0-9._:-]{1,120}$/;
const TOOL_PATTERN = /^[a-z0-9_*]{1,64}$/;

/** Parses ENTRA_MCP_ROLES: `{"Tools.Read":["*"],"Mail.Send":["send_mail","reply_to_message"]}`. */
export function parseRoleMap(json: string, settingName: string): RoleMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${settingName} is not valid JSON; expected e.g. {"Tools.Read":["*"],"Mail.Send":["send_mail"]}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new Error(`${settingName} must be a JSON object mapping app role names to lists of tool names or patterns.`);
  }
  for (const [role, patterns] of Object.entries(parsed)) {
    if (!ROLE_NAME.test(role)) {
      throw new Error(`${settingName}: "${role}" is not an app role value (letters, digits, . _ : - only).`);
    }
    if (!Array.isArray(patterns) || !patterns.every(pattern => typeof pattern === 'string' && TOOL_PATTERN.test(pattern))) {
      throw new Error(`${settingName}: role "${role}" must map to a list of tool names or patterns such as "get_*".`);
    }
  }
  return parsed as RoleMap;
}

/** Decides, for one caller's roles, which tools they may see and call. */
export class ToolAccess {
  /**
   * Whether a known role grants a tool, decided once: every `tools/list` and `tools/call` asks,
   * and matching a role's patterns anew each time was a measurable share of a request's CPU.
   * Bounded by the known roles times the tools (an unknown role is never looked up).
   */
  private readonly grants = new Map<string, boolean>();

  constructor(private readonly roles: RoleMap, private readonly requireRoles: boolean) {}

  /** Whether a caller holding `callerRoles` may list and call `tool`. */
  allows(callerRoles: readonly string[], tool: string): boolean {
    if (!this.requireRoles) {
      return true;
    }
    return callerRoles.some(role => Object.hasOwn(this.roles, role) && this.roleGrants(role, tool));
  }

  private roleGrants(role: string, tool: string): boolean {
    const key = `${role}\n${tool}`;
    let granted = this.grants.get(key);
    if (granted === undefined) {
      granted = this.roles[role].some(pattern => wildcardMatches(pattern, tool));
      this.grants.set(key, granted);
    }
    return granted;
  }

  /** Whether the caller holds any role this server knows (when roles are required). */
  hasAnyRole(callerRoles: readonly string[]): boolean {
    return !this.requireRoles || callerRoles.some(role => Object.hasOwn(this.roles, role));
  }

  /** The roles that would grant `tool`: what to ask an administrator for. */
  rolesGranting(tool: string): string[] {
    return Object.entries(this.roles).filter(([, patterns]) => patterns.some(pattern => wildcardMatches(pattern, tool))).map(([role]) => role);
  }

  /** Every role this server knows, for messages to users without one. */
  knownRoles(): string[] {
    return Object.keys(this.roles);
  }
}
