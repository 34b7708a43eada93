/**
 * A connection opened on first use and shared by every caller until it is forgotten: when
 * opening it failed, or when a caller found it broken. The next use then opens a new one.
 */
export class SharedOpening<T> {
  private current: Promise<T> | undefined;

  constructor(private readonly open: () => Promise<T>) {}

  /** The shared connection, opened now if there is none. */
  get(): Promise<T> {
    if (!this.current) {
      const opening = this.open();
      this.current = opening;
      opening.catch(() => this.forget(opening));
    }
    return this.current;
  }

  /** Forgets the shared connection if it is still `opened` (a newer one is left alone). */
  forget(opened: Promise<T>): void {
    if (this.current === opened) { this.current = undefined; }
  }

  /** Forgets the shared connection if it is `value` (for a caller that holds the connection, not its promise). */
  forgetValue(value: T): void {
    const opened = this.current;
    void opened?.then(current => {
      if (current === value) { this.forget(opened); }
    }, () => undefined);
  }

  /** Takes the shared connection away, to close it; the next use opens a new one. */
  take(): Promise<T> | undefined {
    const opened = this.current;
    this.current = undefined;
    return opened;
  }
}
