import { EnvReader } from './env-reader.js';
import { isKnownRunnerName, readKnownRunnerNames, splitPatternList } from './known-runner-names.js';

function known(raw: string): { patterns: RegExp[]; problems: string[] } {
  const reader = new EnvReader({ KNOWN_RUNNER_NAMES: raw });
  return { patterns: readKnownRunnerNames(reader), problems: reader.problems };
}

describe('KNOWN_RUNNER_NAMES', () => {
  it('splits on commas between patterns, not inside {}, [] or (), nor an escaped one', () => {
    expect(splitPatternList(' arc-.* ,gpu-[0-9]{1,3},(a|b,c)-x,[,;]y,comma\\,name,,')).toEqual([
      'arc-.*',
      'gpu-[0-9]{1,3}',
      '(a|b,c)-x',
      '[,;]y',
      'comma\\,name',
    ]);
  });

  it('matches whole names only: a pattern is not found inside a longer name', () => {
    const { patterns, problems } = known('arc-.*,ci-runner');
    expect(problems).toEqual([]);
    expect(isKnownRunnerName('arc-runner-x7k2p', patterns)).toBe(true);
    expect(isKnownRunnerName('ci-runner', patterns)).toBe(true);
    expect(isKnownRunnerName('evil-arc-runner', patterns)).toBe(false);
    expect(isKnownRunnerName('ci-runner-2', patterns)).toBe(false);
    expect(isKnownRunnerName('xci-runner', patterns)).toBe(false);
  });

  it('cannot be made to match everything with an unbalanced parenthesis', () => {
    const { patterns, problems } = known('x)|(.*');
    expect(patterns).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/^KNOWN_RUNNER_NAMES has the pattern "x\)\|\(\.\*": invalid regular expression/)]);
  });

  it('refuses a pattern that can backtrack exponentially on a name someone else chose', () => {
    const { patterns, problems } = known('(arc-[a-z]+)*');
    expect(patterns).toEqual([]);
    expect(problems).toEqual([expect.stringContaining('repeat either the group or what is inside it, not both')]);
  });

  it('is empty when unset or blank', () => {
    expect(known('  ')).toEqual({ patterns: [], problems: [] });
    expect(readKnownRunnerNames(new EnvReader({}))).toEqual([]);
  });
});
