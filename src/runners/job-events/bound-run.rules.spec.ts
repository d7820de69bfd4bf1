import { boundRunOf, breaksBinding } from './bound-run.rules.js';

describe('boundRunOf', () => {
  it('reads the run and attempt of a bind_to_run runner from its one label', () => {
    expect(boundRunOf(['run-9876543210-2'])).toEqual({ runId: 9876543210, runAttempt: 2 });
  });

  it.each([
    ['no run label', ['self-hosted', 'linux', 'x64']],
    ['a run label among others (not what bind_to_run issues)', ['self-hosted', 'run-12-1']],
    ['two run labels', ['run-12-1', 'run-13-1']],
    ['a label that only looks like one', ['run-12']],
    ['no labels', []],
  ])('is null for %s', (_case, labels) => {
    expect(boundRunOf(labels)).toBeNull();
  });
});

describe('breaksBinding', () => {
  const bound = { runId: 12, runAttempt: 1 };

  it('holds for a job of the bound run and attempt', () => {
    expect(breaksBinding(bound, { runId: 12, runAttempt: 1 })).toBe(false);
  });

  it('breaks for a job of another run', () => {
    expect(breaksBinding(bound, { runId: 13, runAttempt: 1 })).toBe(true);
  });

  it('breaks for another attempt of the same run', () => {
    expect(breaksBinding(bound, { runId: 12, runAttempt: 2 })).toBe(true);
  });

  it('judges an event without the attempt by the run alone', () => {
    expect(breaksBinding(bound, { runId: 12, runAttempt: null })).toBe(false);
    expect(breaksBinding(bound, { runId: 99, runAttempt: null })).toBe(true);
  });
});
