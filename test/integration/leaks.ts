/**
 * What the leak test of the integration suite looks at on Linux: every process's environment
 * and command line (/proc), and every file under VS Code's logs folder.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A JWT's header and payload, the shape of every access token. */
export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;

export function processIds(): number[] {
  return readdirSync('/proc').filter(name => /^\d+$/.test(name)).map(Number);
}

/** A process's environment and command line, or undefined when it exited or is not ours to read. */
export function processText(pid: number, file: 'environ' | 'cmdline'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replace(/\0/g, '\n');
  } catch {
    return undefined;
  }
}

export function environmentOf(pid: number): Map<string, string> {
  const lines = processText(pid, 'environ')?.split('\n') ?? [];
  return new Map(lines.filter(line => line.includes('=')).map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map(name => join(dir, name)).filter(path => statSync(path).isFile());
}
