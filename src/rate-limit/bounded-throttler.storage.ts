import type { ThrottlerStorage } from '@nestjs/throttler';

/** What ThrottlerGuard reads back (the library does not export its name for it). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * How many callers each limit keeps count of at once. A flood of distinct addresses (a botnet, or
 * forged X-Forwarded-For behind TRUST_PROXY=true) pushes out the callers seen least recently instead
 * of growing the process: each entry is a hashed key and two numbers, some 200 bytes (20 MB when full).
 */
export const MAX_TRACKED_CALLERS = 100_000;

/** How full a limit's map is left after it overflowed: evicting in batches keeps a flood cheap. */
const ROOM_LEFT_AFTER_EVICTION = 0.9;

interface Window {
  hits: number;
  /** When the count starts again from zero (ms since the epoch). */
  endsAt: number;
}

/**
 * The rate limits' counts, in this process's memory: one fixed window per caller, starting at its
 * first request, and a bounded map per limit whose least recently seen callers are dropped first.
 * The library's own in-memory storage keeps every caller (and a timestamp per request) until a sweep
 * a minute later finds it expired, with no upper bound: under a flood of distinct addresses it grows
 * with the request rate. Calls are synchronous in between awaits, so concurrent requests count exactly.
 */
export class BoundedThrottlerStorage implements ThrottlerStorage {
  private readonly limits = new Map<string, Map<string, Window>>();

  constructor(
    private readonly capacity = MAX_TRACKED_CALLERS,
    private readonly now: () => number = Date.now,
  ) {}

  /** ttl in milliseconds, as ThrottlerGuard passes it; blockDuration is the window itself here. */
  async increment(key: string, ttl: number, limit: number, _blockDuration: number, name: string): Promise<ThrottlerStorageRecord> {
    return this.count(key, ttl, limit, name);
  }

  /** How many callers the named limit holds a count for now. */
  size(name: string): number {
    return this.limits.get(name)?.size ?? 0;
  }

  private count(key: string, ttl: number, limit: number, name: string): ThrottlerStorageRecord {
    const now = this.now();
    const windows = this.windowsOf(name);
    const current = windows.get(key);
    const window = current !== undefined && current.endsAt > now ? current : { hits: 0, endsAt: now + ttl };
    // Re-inserted on every request: the map's first entry is the caller seen least recently.
    windows.delete(key);
    if (windows.size >= this.capacity) this.makeRoom(windows, now);
    windows.set(key, window);
    window.hits += 1;
    // timeToBlockExpire is the Retry-After: whole seconds until the window ends, at least 1.
    const secondsLeft = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    const isBlocked = window.hits > limit;
    return { totalHits: window.hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
  }

  private windowsOf(name: string): Map<string, Window> {
    let windows = this.limits.get(name);
    if (windows === undefined) {
      windows = new Map();
      this.limits.set(name, windows);
    }
    return windows;
  }

  /**
   * Full: drops the ended windows, then the callers seen least recently down to 90% of the capacity.
   * One pass for a tenth of the capacity's new callers, so a flood costs a constant time per request.
   */
  private makeRoom(windows: Map<string, Window>, now: number): void {
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
    const target = Math.floor(this.capacity * ROOM_LEFT_AFTER_EVICTION);
    for (const key of windows.keys()) {
      if (windows.size <= target) return;
      windows.delete(key);
    }
  }
}
