/**
 * The leak scan of the unit run. Every credential a test mints (tokens, broker secrets) is
 * remembered, and everything a user or log could see — process output, audit lines, tool
 * results and errors — is recorded; after the whole run, none of the first may appear in the
 * second, not even a token's payload on its own.
 */
const credentials = new Set<string>();
const visible: Array<{ source: string; text: string }> = [];

export function rememberCredential(value: string): void {
  credentials.add(value);
  // A JWT's payload alone is as identifying as the whole token.
  const payload = value.split('.')[1];
  if (payload && payload.length >= 16) { credentials.add(payload); }
}

export function recordVisible(source: string, text: string): void {
  visible.push({ source, text });
}

/** Records everything written to stdout and stderr from now on, still passing it through. */
export function captureProcessOutput(): void {
  for (const [source, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      visible.push({ source, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

export interface LeakReport {
  credentials: number;
  linesScanned: number;
  leaks: Array<{ source: string; excerpt: string }>;
}

export function scanForLeaks(): LeakReport {
  const leaks: LeakReport['leaks'] = [];
  for (const { source, text } of visible) {
    for (const credential of credentials) {
      const at = text.indexOf(credential);
      if (at !== -1) {
        leaks.push({ source, excerpt: `${text.slice(Math.max(0, at - 40), at)}[credential of ${credential.length} chars]` });
      }
    }
  }
  return { credentials: credentials.size, linesScanned: visible.length, leaks };
}
