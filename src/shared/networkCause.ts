/**
 * What went wrong when a request did not reach its server: fetch (undici) throws "fetch failed"
 * and keeps the useful part, a code such as ECONNREFUSED or a TLS reason, in `cause`.
 */
export function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') { return cause.code; }
  if (typeof cause?.message === 'string') { return cause.message; }
  return error instanceof Error ? error.message : String(error);
}
