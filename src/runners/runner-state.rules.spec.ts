import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity } from './runner.entity.js';
import {
  isAbandoned,
  isStillProvisioning,
  neverHandedOut,
  registrationMismatch,
  requestIsOverAfterMs,
  requestProgress,
} from './runner-state.rules.js';

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

describe('requestProgress and the rules that read it', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  const overAfterMs = 60_000;
  const row = (overrides: Partial<RunnerEntity>, secondsAgo = 0): RunnerEntity =>
    makeRow({ kind: 'jit', githubRunnerId: null, expiresAt: null, createdAt: new Date(now - secondsAgo * 1000), ...overrides });

  it('tells a JIT row waiting for GitHub, one whose answer may not have gone out, and one handed out apart', () => {
    expect(requestProgress(row({}))).toBe('asking-github');
    expect(requestProgress(row({ githubRunnerId: 7 }))).toBe('handing-out');
    expect(requestProgress(row({ githubRunnerId: 7, expiresAt: new Date(now) }))).toBe('done');
  });

  it('tells a registration-token row waiting for its token from one that has it', () => {
    expect(requestProgress(row({ kind: 'registration_token' }))).toBe('asking-github');
    expect(requestProgress(row({ kind: 'registration_token', expiresAt: new Date(now) }))).toBe('done');
  });

  it('counts every row that is no longer pending as done', () => {
    for (const status of ['active', 'offline', 'deleted', 'failed'] as const) expect(requestProgress(row({ status }))).toBe('done');
  });

  it('takes a JIT row waiting for GitHub for abandoned only once its request is over', () => {
    expect(isAbandoned(row({}, 60), now, overAfterMs)).toBe(false);
    expect(isStillProvisioning(row({}, 60), now, overAfterMs)).toBe(true);
    expect(isAbandoned(row({}, 61), now, overAfterMs)).toBe(true);
    expect(isStillProvisioning(row({}, 61), now, overAfterMs)).toBe(false);
    // A registration token's request that died holds its name until its owner asks again or cleanup runs.
    expect(isAbandoned(row({ kind: 'registration_token' }, 61), now, overAfterMs)).toBe(false);
  });

  it('takes a JIT runner for never handed out only after the hour its config was valid', () => {
    const hour = 3_600_000;
    expect(neverHandedOut(row({ githubRunnerId: 7 }, 3600), now, hour)).toBe(false);
    expect(neverHandedOut(row({ githubRunnerId: 7 }, 3601), now, hour)).toBe(true);
    expect(neverHandedOut(row({ githubRunnerId: 7 }, 601), now, 600_000)).toBe(true);
    expect(neverHandedOut(row({ githubRunnerId: 7, expiresAt: new Date(now) }, 7200), now, hour)).toBe(false);
    expect(neverHandedOut(row({}, 7200), now, hour)).toBe(false);
  });

  it('gives a request its deadline and a margin for its last writes', () => {
    expect(requestIsOverAfterMs(15_000)).toBe(60_000);
  });
});
