import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity } from './runner.entity.js';
import { isAbandoned, isStillProvisioning, isUnfinishedAttempt, registrationMismatch } from './runner-state.rules.js';

function makeRow(overrides: Partial<RunnerEntity> = {}): RunnerEntity {
  return {
    kind: 'registration_token',
    name: 'team-c-build-01',
    status: 'pending',
    labels: ['build', 'gpu'],
    runnerGroupId: 1,
    githubRunnerId: null,
    githubRunnerIdFloor: 40,
    ...overrides,
  } as RunnerEntity;
}

function makeGithubRunner(overrides: Partial<GithubRunner> = {}, labels = ['self-hosted', 'Linux', 'X64', 'build', 'gpu']): GithubRunner {
  return {
    id: 41,
    name: 'team-c-build-01',
    os: 'linux',
    status: 'offline',
    busy: false,
    runner_group_id: 1,
    labels: labels.map((name, index) => ({ id: index + 1, name, type: index < 3 ? 'read-only' : 'custom' })),
    ...overrides,
  } as GithubRunner;
}

describe('registrationMismatch', () => {
  it('accepts a runner newer than the token, in its group, with its labels and the ones config.sh adds', () => {
    expect(registrationMismatch(makeRow(), makeGithubRunner())).toBeNull();
  });

  it('compares labels case-insensitively, as a superset', () => {
    expect(registrationMismatch(makeRow(), makeGithubRunner({}, ['self-hosted', 'Linux', 'X64', 'GPU', 'Build', 'extra']))).toBeNull();
  });

  it('refuses a runner at or below the highest id known when the token was issued', () => {
    expect(registrationMismatch(makeRow(), makeGithubRunner({ id: 40 }))).toMatch(/before the token was issued/);
    expect(registrationMismatch(makeRow({ githubRunnerIdFloor: null }), makeGithubRunner({ id: 40 }))).toBeNull();
  });

  it('refuses a runner in another runner group', () => {
    expect(registrationMismatch(makeRow(), makeGithubRunner({ runner_group_id: 2 }))).toBe('in runner group 2, not 1');
  });

  it('refuses a runner without every label of the row', () => {
    expect(registrationMismatch(makeRow(), makeGithubRunner({}, ['self-hosted', 'Linux', 'X64', 'build']))).toBe(
      'without the label(s) gpu',
    );
  });
});

describe('isUnfinishedAttempt', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const createdAgo = (ms: number) => new Date(now - ms);

  it('is a pending row still waiting for what its attempt completes it with, over a minute old', () => {
    const jit = makeRow({ kind: 'jit', createdAt: createdAgo(61_000) });
    const token = makeRow({ kind: 'registration_token', expiresAt: null, createdAt: createdAgo(61_000) });
    expect([isUnfinishedAttempt(jit, now), isUnfinishedAttempt(token, now)]).toEqual([true, true]);
    // Only a JIT row frees its name on a request for it; both are closed by a sync.
    expect([isAbandoned(jit, now), isAbandoned(token, now)]).toEqual([true, false]);
  });

  it('is not a row whose attempt completed, one no longer pending, or one young enough to be under way', () => {
    const completedJit = makeRow({ kind: 'jit', githubRunnerId: 7, createdAt: createdAgo(3_600_000) });
    const completedToken = makeRow({ expiresAt: new Date(now + 60_000), createdAt: createdAgo(3_600_000) });
    const failed = makeRow({ kind: 'jit', status: 'failed', createdAt: createdAgo(3_600_000) });
    const young = makeRow({ kind: 'jit', createdAt: createdAgo(30_000) });
    expect([completedJit, completedToken, failed, young].map((row) => isUnfinishedAttempt(row, now))).toEqual([false, false, false, false]);
    expect(isStillProvisioning(young, now)).toBe(true);
  });
});
