import { jest } from '@jest/globals';
import { QueryFailedError, type EntityManager } from 'typeorm';
import { Actor } from '../auth/actor.js';
import type { AuditRecord, AuditService } from '../audit/audit.service.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { GithubError } from '../github/github.errors.js';
import { NameTaken, ProvisioningAttempts } from './provisioning-attempts.js';
import { type RunnerEntity, UQ_RUNNERS_NAME_ACTIVE } from './runner.entity.js';
import type { RunnerChange, RunnersRepository } from './runners.repository.js';

const actor = Actor.user({ issuer: 'https://issuer.test', subject: 'alice-sub', name: 'alice' });
const manager = {} as EntityManager;

function makeRunner(overrides: Partial<RunnerEntity> = {}): RunnerEntity {
  return {
    id: 'runner-1',
    name: 'build-1',
    kind: 'jit',
    status: 'pending',
    githubRunnerId: null,
    ...overrides,
  } as RunnerEntity;
}

/** Only what ProvisioningAttempts calls; writes are kept for the assertions. */
class FakeRunners {
  updates: { id: string; change: RunnerChange }[] = [];
  pendingIds = new Set<string>(['runner-1', 'old-1']);
  insertError: unknown;

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return work(manager);
  }

  async updateWhilePending(_manager: EntityManager, id: string, _githubRunnerId: number | null, change: RunnerChange) {
    if (!this.pendingIds.has(id)) return false;
    this.updates.push({ id, change });
    return true;
  }

  async insert(_manager: EntityManager, runner: Partial<RunnerEntity>): Promise<RunnerEntity> {
    if (this.insertError) throw this.insertError;
    return makeRunner({ ...runner, id: 'runner-2' });
  }
}

class FakeAudit {
  events: AuditRecord[] = [];
  failWith: Error | undefined;

  async record(_manager: EntityManager, _actor: Actor, event: AuditRecord): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.events.push(event);
  }
}

function nameViolation(): QueryFailedError {
  const driverError = Object.assign(new Error('duplicate key'), { code: '23505', constraint: UQ_RUNNERS_NAME_ACTIVE });
  return new QueryFailedError('INSERT INTO runners', [], driverError);
}

describe('ProvisioningAttempts', () => {
  let runners: FakeRunners;
  let audit: FakeAudit;
  let attempts: ProvisioningAttempts;

  beforeEach(() => {
    runners = new FakeRunners();
    audit = new FakeAudit();
    attempts = new ProvisioningAttempts(runners as unknown as RunnersRepository, audit as unknown as AuditService);
  });

  const reservation = {
    runner: { name: 'build-1', kind: 'registration_token' as const, ephemeral: false, labels: ['linux'], runnerGroupId: 1 },
    details: { labels: ['linux'] },
  };

  it("records the replaced runner as deleted before the new attempt, under the kind's action", async () => {
    const old = makeRunner({ id: 'old-1', kind: 'registration_token' });
    await attempts.reserve(actor, { ...reservation, replacing: { runner: old, details: { kind: old.kind } } });

    expect(runners.updates).toEqual([{ id: 'old-1', change: expect.objectContaining({ status: 'deleted' }) }]);
    expect(audit.events.map((event) => [event.action, event.outcome, event.runnerId])).toEqual([
      ['replace', 'succeeded', 'old-1'],
      ['provision', 'attempted', 'runner-2'],
    ]);
  });

  it('refuses the name when the runner to replace was changed by another request', async () => {
    const old = makeRunner({ id: 'gone-1' });
    const reserving = attempts.reserve(actor, { ...reservation, replacing: { runner: old, details: {} } });

    await expect(reserving).rejects.toThrow('The runner name "build-1" is being changed by another request; retry in a moment');
    expect(audit.events).toEqual([]);
  });

  it("explains a name taken between the check and the insert with the caller's reason", async () => {
    runners.insertError = nameViolation();

    await expect(attempts.reserve(actor, reservation)).rejects.toThrow('is taken by another runner;');
    await expect(attempts.reserve(actor, { ...reservation, takenReason: 'taken' })).rejects.toThrow(
      new NameTaken('build-1', 'taken'),
    );
  });

  it("marks the attempt failed with GitHub's status, and writes no second closing event", async () => {
    const error = new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, 'GitHub is unavailable', { status: 502 });
    await attempts.fail(actor, makeRunner(), error, { orphan: 'none' });
    await attempts.recordUnaudited(actor, 'jit', 'build-1', error);

    expect(runners.updates[0].change).toMatchObject({ status: 'failed', failureCode: ERROR_CODES.GITHUB_UNAVAILABLE });
    expect(audit.events).toEqual([
      expect.objectContaining({
        action: 'provision_jit',
        outcome: 'failed',
        details: { error_code: ERROR_CODES.GITHUB_UNAVAILABLE, github_status: 502, orphan: 'none' },
      }),
    ]);
  });

  it('closes a refused attempt as denied and an unexpected error as failed, without its text', async () => {
    const refused = new DomainError(ERROR_CODES.REGISTRATION_TOKENS_DISABLED, 'Registration tokens are off');
    await attempts.recordUnaudited(actor, 'registration_token', 'build-1', refused);
    await attempts.recordUnaudited(actor, 'jit', null, new Error('connection reset'), { runner_name_prefix: 'build' });

    expect(audit.events).toEqual([
      expect.objectContaining({
        action: 'provision',
        outcome: 'denied',
        details: { error_code: ERROR_CODES.REGISTRATION_TOKENS_DISABLED, reason: 'Registration tokens are off' },
      }),
      expect.objectContaining({
        action: 'provision_jit',
        outcome: 'failed',
        runnerName: null,
        details: { error_code: ERROR_CODES.INTERNAL, runner_name_prefix: 'build' },
      }),
    ]);
  });

  it('does not throw when the closing event cannot be written', async () => {
    audit.failWith = new Error('database is down');
    jest.spyOn(attempts['logger'], 'error').mockImplementation(() => undefined);

    await expect(attempts.recordUnaudited(actor, 'jit', 'build-1', new Error('boom'))).resolves.toBeUndefined();
  });
});
