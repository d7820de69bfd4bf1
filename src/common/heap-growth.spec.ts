import { limitHeapGrowth } from './heap-growth.js';

describe('limitHeapGrowth', () => {
  it('leaves the factor to an operator who gave one on the command line', () => {
    expect(limitHeapGrowth(['--heap-growing-percent=100'])).toBe(false);
    expect(limitHeapGrowth(['--inspect', '--heap_growing_percent=20'])).toBe(false);
  });

  it('sets it otherwise', () => {
    expect(limitHeapGrowth(['--max-old-space-size=512', '--heap-growing-percentage'])).toBe(true);
  });
});
