/** Limits this instance puts on its own calls to GitHub, so that it stays inside GitHub's secondary limits. */

/** Gives a slot back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  timer?: NodeJS.Timeout;
}

/**
 * At most `size` holders at once; the others wait in arrival order. A waiter with a time limit
 * leaves the queue when it runs out (and gets undefined), so a caller whose request is out of time
 * never goes on to call GitHub.
 */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`A concurrency limit must be a whole number of at least 1 (got ${size})`);
  }

  /** Holders now. */
  get inUse(): number {
    return this.active;
  }

  /** A slot, at once or when one frees up; undefined when `timeoutMs` passes first. */
  acquire(timeoutMs?: number): Promise<Release | undefined> {
    if (this.active < this.size) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = { grant: resolve };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          resolve(undefined);
        }, timeoutMs);
      }
      this.waiting.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (!next) {
        this.active -= 1;
        return;
      }
      // The slot passes straight to the next waiter: nobody can slip in between.
      clearTimeout(next.timer);
      next.grant(this.releaser());
    };
  }
}

/** At most `limit` events in any `windowMs`; 0 is no limit. */
export class SlidingWindowLimit {
  private readonly times: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /**
   * Counts an event now and returns 0 when the window has room; otherwise counts nothing and returns
   * the milliseconds until it will.
   */
  take(now = Date.now()): number {
    if (this.limit === 0) return 0;
    while (this.times.length > 0 && this.times[0] <= now - this.windowMs) this.times.shift();
    if (this.times.length >= this.limit) return this.times[0] + this.windowMs - now;
    this.times.push(now);
    return 0;
  }
}
