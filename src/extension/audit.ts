/**
 * The audit trail of authentication events. Lines go to the "Entra MCP" log channel; they say
 * who asked for what and how it ended, and never carry a token, a secret or a claims value.
 */
export type AuditOutcome = 'ok' | 'refused' | 'failed';

export interface AuditEvent {
  /** What happened: `token`, `status`, `handshake`, `sign-in`, `sign-out`, `connection`, … */
  readonly event: string;
  readonly outcome: AuditOutcome;
  readonly tool?: string;
  readonly scopes?: readonly string[];
  readonly latencyMs?: number;
  /** Free text for people: a reason, never a credential. */
  readonly detail?: string;
}

export interface AuditSink {
  info(line: string): void;
  warn(line: string): void;
}

export type Audit = (event: AuditEvent) => void;

/** Formats one event as a single line; time is added by the log channel itself. */
export function formatAuditEvent(event: AuditEvent): string {
  const fields = [`audit ${event.event}`, `outcome=${event.outcome}`];
  if (event.tool) { fields.push(`tool=${event.tool}`); }
  if (event.scopes) { fields.push(`scopes=${JSON.stringify(event.scopes.join(' '))}`); }
  if (event.latencyMs !== undefined) { fields.push(`latency=${Math.round(event.latencyMs)}ms`); }
  if (event.detail) { fields.push(`detail=${JSON.stringify(redactCredentials(event.detail))}`); }
  return fields.join(' ');
}

export function createAudit(sink: AuditSink): Audit {
  return event => {
    const line = formatAuditEvent(event);
    if (event.outcome === 'ok') { sink.info(line); } else { sink.warn(line); }
  };
}

/**
 * Belt and braces: provider error messages are echoed into details, and one could in theory
 * quote a JWT, a long hex secret or a claims value. Anything shaped like one is replaced.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '[redacted token]')
    // Base64 of a JSON object (`{"…`): a claims value, or a token fragment cut at a dot.
    .replace(/eyJ[A-Za-z0-9+/_-]{12,}={0,2}/g, '[redacted]')
    // A claims request quoted as JSON: everything from its start, as its end may be cut off.
    .replace(/\{\s*\\?"(?:access_token|id_token|userinfo)\\?"[^]*/g, '[redacted claims]')
    .replace(/\b[0-9a-f]{48,}\b/gi, '[redacted secret]');
}
