/**
 * An error that crosses a boundary: a stable code to branch on and a message for people.
 * Recognised by a brand and its name rather than `instanceof`, which fails across bundles.
 */
const CODED_ERROR_BRAND = Symbol.for('entraMcp.CodedError');

export class CodedError<Code extends string> extends Error {
  readonly [CODED_ERROR_BRAND] = true;

  constructor(name: string, readonly code: Code, message: string) {
    super(message);
    this.name = name;
  }
}

export function isCodedError<Code extends string>(value: unknown, name: string): value is CodedError<Code> {
  return typeof value === 'object' && value !== null
    && (value as Record<symbol, unknown>)[CODED_ERROR_BRAND] === true && (value as Error).name === name;
}
