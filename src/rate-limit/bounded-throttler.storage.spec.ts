import { BoundedThrottlerStorage } from './bounded-throttler.storage.js';

const MINUTE = 60_000;

describe('BoundedThrottlerStorage', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_767_225_600_000;
  });

  it('blocks past the limit until the window that began with the first request ends, then counts anew', async () => {
    const storage = new BoundedThrottlerStorage(10, clock);
    for (let hit = 1; hit <= 3; hit += 1) {
      expect(await storage.increment('caller', MINUTE, 3, MINUTE, 'ip')).toMatchObject({ totalHits: hit, isBlocked: false });
    }
    now += 20_000;
    expect(await storage.increment('caller', MINUTE, 3, MINUTE, 'ip')).toEqual({
      totalHits: 4,
      timeToExpire: 40,
      isBlocked: true,
      timeToBlockExpire: 40,
    });
    now += 39_500;
    // Half a second left: Retry-After is whole seconds, never 0.
    expect(await storage.increment('caller', MINUTE, 3, MINUTE, 'ip')).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    now += 500;
    expect(await storage.increment('caller', MINUTE, 3, MINUTE, 'ip')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('counts callers and limits apart', async () => {
    const storage = new BoundedThrottlerStorage(10, clock);
    await storage.increment('a', MINUTE, 1, MINUTE, 'ip');
    expect(await storage.increment('a', MINUTE, 1, MINUTE, 'ip')).toMatchObject({ isBlocked: true });
    expect(await storage.increment('b', MINUTE, 1, MINUTE, 'ip')).toMatchObject({ isBlocked: false });
    expect(await storage.increment('a', MINUTE, 1, MINUTE, 'identity')).toMatchObject({ isBlocked: false });
  });

  it('holds at most its capacity under a flood of distinct callers, dropping the one seen least recently', async () => {
    const storage = new BoundedThrottlerStorage(1_000, clock);
    await storage.increment('regular', MINUTE, 2, MINUTE, 'ip');
    for (let caller = 0; caller < 5_000; caller += 1) {
      await storage.increment(`flood-${caller}`, MINUTE, 2, MINUTE, 'ip');
      if (caller % 100 === 0) await storage.increment('regular', MINUTE, 1_000_000, MINUTE, 'ip');
    }
    expect(storage.size('ip')).toBeLessThanOrEqual(1_000);
    expect(storage.size('ip')).toBeGreaterThanOrEqual(900);
    // Seen recently throughout, so still counted: 1 + 50 requests.
    expect(await storage.increment('regular', MINUTE, 2, MINUTE, 'ip')).toMatchObject({ totalHits: 52, isBlocked: true });
    // Pushed out long ago: starts again from zero.
    expect(await storage.increment('flood-0', MINUTE, 2, MINUTE, 'ip')).toMatchObject({ totalHits: 1 });
  });

  it('keeps a flood of addresses from pushing out the counts per identity', async () => {
    const storage = new BoundedThrottlerStorage(100, clock);
    await storage.increment('someone', MINUTE, 1, MINUTE, 'identity');
    for (let caller = 0; caller < 1_000; caller += 1) await storage.increment(`address-${caller}`, MINUTE, 1, MINUTE, 'ip');
    expect(storage.size('ip')).toBeLessThanOrEqual(100);
    expect(await storage.increment('someone', MINUTE, 1, MINUTE, 'identity')).toMatchObject({ totalHits: 2, isBlocked: true });
  });

  it('lets go of every caller whose window has ended once it is full, before anyone still counted', async () => {
    const storage = new BoundedThrottlerStorage(300, clock);
    for (let caller = 0; caller < 300; caller += 1) await storage.increment(`early-${caller}`, MINUTE, 5, MINUTE, 'ip');
    now += MINUTE;
    await storage.increment('late', MINUTE, 5, MINUTE, 'ip');
    expect(storage.size('ip')).toBe(1);
  });
});
