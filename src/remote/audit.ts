/**
 * The audit log: one JSON line per MCP request and one per refused authentication, on stdout
 * (where container platforms collect logs). It records who did what and how it ended, never a
 * token, an assertion, a secret or a Graph response body; README "Audit log" lists the fields.
 */
import pino, { DestinationStream, Logger } from 'pino';

export interface RequestRecord {
  readonly requestId: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly method?: string;
  readonly tool?: string;
  readonly outcome?: string;
  readonly oid?: string;
  readonly upn?: string;
  readonly tid?: string;
  readonly clientApp?: string;
  readonly ip?: string;
}

export interface RefusalRecord {
  readonly requestId: string;
  readonly status: number;
  /** The check that failed: a token claim (`aud`, `exp`, `scp`, …), `origin`, `host`, `roles`, `rate_limit`. */
  readonly claim: string;
  readonly reason: string;
  readonly oid?: string;
  readonly tid?: string;
  readonly ip?: string;
}

export class AuditLog {
  private readonly logger: Logger;

  /**
   * Written synchronously, as Node writes stdout to a file or a pipe: a line is out the moment it
   * is logged, so a crash loses none, and no line takes a trip through the thread pool (an
   * asynchronous write is one there and one back per line). A stalled log reader holds
   * the server back rather than letting lines pile up in memory.
   */
  constructor(destination: DestinationStream = pino.destination({ dest: 1, sync: true })) {
    this.logger = pino({
      base: undefined,
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: label => ({ level: label }) },
      // A safety net only: nothing that carries a credential is ever passed in.
      redact: { paths: ['authorization', 'token', 'assertion', 'secret', '*.authorization', '*.token'], censor: '[removed]' },
    }, destination);
  }

  request(record: RequestRecord): void {
    this.logger.info({ ...record, latencyMs: Math.round(record.latencyMs * 10) / 10 }, 'mcp_request');
  }

  refusal(record: RefusalRecord): void {
    this.logger.warn(record, 'auth_refused');
  }

  /** Start-up, readiness and operational events. */
  event(event: string, fields: Record<string, unknown> = {}, level: 'info' | 'warn' | 'error' = 'info'): void {
    this.logger[level](fields, event);
  }

  flush(): Promise<void> {
    return new Promise(resolve => this.logger.flush(() => resolve()));
  }
}
