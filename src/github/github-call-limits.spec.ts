import { ConcurrencyLimit, SlidingWindowLimit } from './github-call-limits.js';

describe('ConcurrencyLimit', () => {
  it('lets `size` callers in at once and the next one in when a slot is given back, in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const first = await limit.acquire();
    const second = await limit.acquire();
    const order: string[] = [];
    const third = limit.acquire().then((release) => (order.push('third'), release));
    const fourth = limit.acquire().then((release) => (order.push('fourth'), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(limit.inUse).toBe(2);

    first!();
    first!();
    (await third)!();
    second!();
    (await fourth)!();
    expect(order).toEqual(['third', 'fourth']);
    expect(limit.inUse).toBe(0);
  });

  it('gives up on a waiter whose time runs out, and never hands it a slot later', async () => {
    const limit = new ConcurrencyLimit(1);
    const holder = await limit.acquire();
    const late = await limit.acquire(20);
    expect(late).toBeUndefined();
    expect(await limit.acquire(0)).toBeUndefined();
    holder!();
    expect(limit.inUse).toBe(0);
    const next = await limit.acquire(20);
    expect(next).toEqual(expect.any(Function));
  });

  it('refuses a size below 1', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(/at least 1/);
  });
});

describe('SlidingWindowLimit', () => {
  it('allows `limit` events in any window and says how long until the next one may go', () => {
    const window = new SlidingWindowLimit(3, 60_000);
    expect([window.take(0), window.take(10_000), window.take(20_000)]).toEqual([0, 0, 0]);
    expect(window.take(30_000)).toBe(30_000);
    // A refused event is not counted: the window still frees up when the first event leaves it.
    expect(window.take(59_999)).toBe(1);
    expect(window.take(60_000)).toBe(0);
    expect(window.take(60_001)).toBe(9_999);
  });

  it('never refuses with a limit of 0', () => {
    const window = new SlidingWindowLimit(0, 60_000);
    expect(Array.from({ length: 1000 }, () => window.take(0)).every((wait) => wait === 0)).toBe(true);
  });
});
