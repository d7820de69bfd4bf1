import { limitHeapGrowth } from './heap-growth.js';

describe('limitHeapGrowth', () => {
  // The flags are recorded, not set: V8's flags are the whole test process's.
  const limit = (execArgv: string[]) => {
    const set: string[] = [];
    limitHeapGrowth(execArgv, (flags) => set.push(flags));
    return set;
  };

  it('leaves the factor to an operator who gave one on the command line', () => {
    expect(limit(['--heap-growing-percent=100'])).toEqual([]);
    expect(limit(['--inspect', '--heap_growing_percent=20'])).toEqual([]);
  });

  it('sets it to 50 % otherwise', () => {
    expect(limit(['--max-old-space-size=512', '--heap-growing-percentage'])).toEqual(['--heap-growing-percent=50']);
  });
});
