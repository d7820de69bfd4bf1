import { jest } from '@jest/globals';
import { QueryFailedError } from 'typeorm';
import { Actor } from '../../auth/actor.js';
import type { AuditRecord, AuditService, AuditStatement } from '../../audit/audit.service.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import type { DatabaseOutage } from '../../database/database-outage.service.js';
import type { AppConfig } from '../../config/app-config.js';
import type { Transaction, Transactions } from '../../database/transactions.service.js';
import type { GithubClient } from '../../github/github.client.js';
import { GithubError } from '../../github/github.errors.js';
import { type RunnerEntity, UQ_RUNNERS_NAME_ACTIVE } from '../runner.entity.js';
import type { RecordChange, RunnerChange, RunnersRepository } from '../runners.repository.js';
import { type Attempt, type Issued, NameTaken } from './provisioning-attempt.js';
import { ProvisioningAttempts } from './provisioning-attempts.service.js';
import type { SuspensionsService } from '../../suspensions/suspensions.service.js';
import { RunnerQuotas } from './runner-quotas.service.js';
import { Metrics } from '../../metrics/metrics.js';

const actor = Actor.user({ issuer: 'https://issuer.test', subject: 'alice-sub', name: 'alice' });
const tx = {} as Transaction;

function makeRunner(overrides: Partial<RunnerEntity> = {}): RunnerEntity {
  return {
    id: 'runner-1',
    name: 'build-1',
    kind: 'jit',
    status: 'pending',
    githubRunnerId: null,
    expiresAt: null,
    ownerIssuer: actor.issuer,
    ownerSubject: actor.subject,
    createdAt: new Date(),
    ...overrides,
  } as RunnerEntity;
}

/** Only what ProvisioningAttempts calls; writes are kept for the assertions. */
class FakeRunners {
  constructor(private readonly audit: FakeAudit) {}

  updates: { id: string; change: RunnerChange }[] = [];
  pendingIds = new Set<string>(['runner-1', 'old-1', 'runner-2']);
  insertError: unknown;
  holder: RunnerEntity | null = null;

  async findActiveByName(): Promise<RunnerEntity | null> {
    return this.holder;
  }

  failUpdatesWith: Error | undefined;

  async updateWhilePending(_tx: Transaction, id: string, _githubRunnerId: number | null, change: RunnerChange) {
    if (this.failUpdatesWith) throw this.failUpdatesWith;
    if (!this.pendingIds.has(id)) return false;
    this.updates.push({ id, change });
    return true;
  }

  async insert(_tx: Transaction, runner: Partial<RunnerEntity>): Promise<RunnerEntity> {
    if (this.insertError) throw this.insertError;
    return makeRunner({ ...runner, id: 'runner-2' });
  }

  /** One statement: the event is written with the row, or neither is. */
  async insertRecorded(_tx: Transaction, runner: Partial<RunnerEntity>, record: RecordChange): Promise<RunnerEntity> {
    if (this.insertError) throw this.insertError;
    const row = makeRunner({ ...runner, id: 'runner-2' });
    await this.audit.write(record(row.id, 1, 'inserted'));
    return row;
  }

  async updateWhilePendingRecorded(
    _tx: Transaction,
    id: string,
    _githubRunnerId: number | null,
    change: RunnerChange,
    record: RecordChange,
  ): Promise<boolean> {
    if (this.failUpdatesWith) throw this.failUpdatesWith;
    if (!this.pendingIds.has(id)) return false;
    await this.audit.write(record(id, 1, 'changed'));
    this.updates.push({ id, change });
    return true;
  }
}

class FakeAudit {
  events: AuditRecord[] = [];
  failWith: Error | undefined;

  async record(_tx: Transaction, _actor: Actor, event: AuditRecord): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.events.push(event);
  }

  statement(_actor: Actor, event: AuditRecord): AuditStatement {
    return { sql: 'INSERT INTO audit_events', params: [event] };
  }

  /** What the statement from statement() does when it runs. */
  async write(statement: AuditStatement): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.events.push(statement.params[0] as AuditRecord);
  }

  async recordAlone(actor: Actor, event: AuditRecord): Promise<void> {
    await this.record(tx, actor, event);
  }

  async hasClosingEvent(_tx: Transaction, runnerId: string, action: string): Promise<boolean> {
    return this.events.some((event) => event.runnerId === runnerId && event.action === action && event.outcome !== 'attempted');
  }
}

/** What ProvisioningAttempts asks of DatabaseOutage; the test makes the kept writes when "the database is back". */
class FakeOutage {
  unavailableSince: Date | null = null;
  kept: { what: string; write: () => Promise<void> }[] = [];

  keep(what: string, write: () => Promise<void>): void {
    this.kept.push({ what, write });
  }
}

/** What pg raises when the server refuses the connection. */
const connectionRefused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

class FakeGithub {
  deleted: number[] = [];

  async deleteRunner(id: number): Promise<'deleted'> {
    this.deleted.push(id);
    return 'deleted';
  }
}

const transactions = { run: <T>(work: (tx: Transaction) => Promise<T>) => work(tx), singleStatement: tx } as Transactions;

function nameViolation(): QueryFailedError {
  const driverError = Object.assign(new Error('duplicate key'), { code: '23505', constraint: UQ_RUNNERS_NAME_ACTIVE });
  return new QueryFailedError('INSERT INTO runners', [], driverError);
}

const outcomes = (events: AuditRecord[]) => events.map((event) => `${event.action}:${event.outcome}`);

describe('ProvisioningAttempts', () => {
  let runners: FakeRunners;
  let audit: FakeAudit;
  let github: FakeGithub;
  let outage: FakeOutage;
  let attempts: ProvisioningAttempts;

  beforeEach(() => {
    audit = new FakeAudit();
    runners = new FakeRunners(audit);
    github = new FakeGithub();
    outage = new FakeOutage();
    attempts = new ProvisioningAttempts(
      { app: { requestDeadlineMs: 15_000 } } as AppConfig,
      runners as unknown as RunnersRepository,
      // No limits are set in these tests, so the quotas never count.
      new RunnerQuotas(runners as unknown as RunnersRepository),
      // Nobody is suspended in these tests.
      {
        assertNotSuspended: async () => undefined,
        coveringCondition: () => () => ({ sql: 'false', params: [] }),
      } as unknown as SuspensionsService,
      audit as unknown as AuditService,
      transactions,
      github as unknown as GithubClient,
      new Metrics(),
      outage as unknown as DatabaseOutage,
    );
  });

  const reservation = {
    runner: { kind: 'registration_token' as const, ephemeral: false, labels: ['linux'], runnerGroupId: 1 },
    details: { labels: ['linux'] },
  };
  const issued = (overrides: Partial<Issued<string>> = {}): Issued<string> => ({
    change: { expiresAt: new Date('2030-01-01T00:00:00Z') },
    details: { token_fingerprint: 'sha256:abc' },
    answer: (runner) => `${runner.name} until ${runner.expiresAt?.toISOString()}`,
    ...overrides,
  });
  const token = { name: 'build-1' };

  describe('run', () => {
    it('completes the row with the success event and answers from the completed row', async () => {
      const answer = await attempts.run(actor, 'registration_token', token, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        return issued();
      });

      expect(answer).toBe('build-1 until 2030-01-01T00:00:00.000Z');
      expect(runners.updates).toEqual([{ id: 'runner-2', change: { expiresAt: new Date('2030-01-01T00:00:00Z') } }]);
      expect(audit.events).toEqual([
        expect.objectContaining({ action: 'provision', outcome: 'attempted', runnerId: 'runner-2', runnerName: 'build-1' }),
        { action: 'provision', outcome: 'succeeded', runnerId: 'runner-2', runnerName: 'build-1', details: { token_fingerprint: 'sha256:abc' } },
      ]);
    });

    it("marks the attempt failed with GitHub's status and what the work learned, in one closing event", async () => {
      const error = new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, 'GitHub is unavailable', { status: 502 });
      const running = attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        attempt.failureDetails.orphan = 'none';
        throw error;
      });

      await expect(running).rejects.toBe(error);
      expect(runners.updates).toEqual([
        {
          id: 'runner-2',
          change: expect.objectContaining({ status: 'failed', failureCode: ERROR_CODES.GITHUB_UNAVAILABLE, failureReason: 'GitHub is unavailable' }),
        },
      ]);
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted', 'provision_jit:failed']);
      expect(audit.events[1]).toMatchObject({
        runnerId: 'runner-2',
        details: { error_code: ERROR_CODES.GITHUB_UNAVAILABLE, github_status: 502, orphan: 'none' },
      });
    });

    it('closes a refused attempt as denied and an unexpected error as failed, without its text', async () => {
      const refused = new DomainError(ERROR_CODES.REGISTRATION_TOKENS_DISABLED, 'Registration tokens are off');
      await expect(attempts.run(actor, 'registration_token', token, async () => Promise.reject(refused))).rejects.toBe(refused);
      const crash = new Error('connection reset');
      const prefixed = { name: null, details: { runner_name_prefix: 'build' } };
      await expect(attempts.run(actor, 'jit', prefixed, async () => Promise.reject(crash))).rejects.toBe(crash);

      expect(audit.events).toEqual([
        {
          action: 'provision',
          outcome: 'denied',
          runnerId: null,
          runnerName: 'build-1',
          details: { error_code: ERROR_CODES.REGISTRATION_TOKENS_DISABLED, reason: 'Registration tokens are off' },
        },
        {
          action: 'provision_jit',
          outcome: 'failed',
          runnerId: null,
          runnerName: null,
          details: { error_code: ERROR_CODES.INTERNAL, runner_name_prefix: 'build' },
        },
      ]);
    });

    it("records GitHub's answer when the work translated it for the caller", async () => {
      const conflict = new GithubError(ERROR_CODES.GITHUB_NAME_TAKEN, 'GitHub already has a runner named build-1', { status: 409 });
      const translated = new NameTaken('build-1', 'taken on GitHub by another runner', undefined, conflict);
      const running = attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        throw translated;
      });

      await expect(running).rejects.toBe(translated);
      expect(runners.updates[0].change).toMatchObject({ status: 'failed', failureCode: ERROR_CODES.GITHUB_NAME_TAKEN });
      expect(audit.events[1].details).toEqual({ error_code: ERROR_CODES.GITHUB_NAME_TAKEN, github_status: 409 });
    });

    it('removes the runner GitHub created when a newer request replaced the row meanwhile, and keeps its id', async () => {
      runners.pendingIds.delete('runner-2');
      const running = attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        return issued({ createdOnGithub: 77 });
      });

      await expect(running).rejects.toThrow('The runner name "build-1" is being provisioned again by a newer request');
      expect(github.deleted).toEqual([77]);
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted', 'provision_jit:failed']);
      expect(audit.events[1].details).toMatchObject({
        error_code: ERROR_CODES.RUNNER_NAME_TAKEN,
        github_runner_id: 77,
        removed_from_github: true,
      });
    });

    it('still records the closing event, without the row, when the row cannot be marked failed', async () => {
      const error = new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, 'GitHub is unavailable', { status: 502 });
      const running = attempts.run(actor, 'registration_token', token, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        runners.failUpdatesWith = new Error('row is locked');
        throw error;
      });
      jest.spyOn(attempts['logger'], 'error').mockImplementation(() => undefined);

      await expect(running).rejects.toBe(error);
      expect(outcomes(audit.events)).toEqual(['provision:attempted', 'provision:failed']);
      expect(audit.events[1]).toMatchObject({
        runnerId: null,
        runnerName: 'build-1',
        details: { error_code: ERROR_CODES.GITHUB_UNAVAILABLE, github_status: 502 },
      });
      expect(attempts['logger'].error).toHaveBeenCalledWith(expect.stringContaining('build-1 (GITHUB_UNAVAILABLE) on its runner row: row is locked'));
    });

    it('does not throw the audit failure when the closing event cannot be written: the caller gets its own error', async () => {
      audit.failWith = new Error('database is down');
      jest.spyOn(attempts['logger'], 'error').mockImplementation(() => undefined);
      const boom = new Error('boom');

      await expect(attempts.run(actor, 'jit', { name: 'build-1' }, async () => Promise.reject(boom))).rejects.toBe(boom);
      expect(attempts['logger'].error).toHaveBeenCalledWith(expect.stringContaining('database is down'));
    });
  });

  describe('when the database is out of reach', () => {
    /** GitHub creates runner 77; the database goes before the success event is written. */
    const runCutDuringGithub = () =>
      attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        runners.failUpdatesWith = connectionRefused();
        return issued({ createdOnGithub: 77 });
      });

    it('removes the runner GitHub created, and keeps the closing write until the database is back', async () => {
      await expect(runCutDuringGithub()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(github.deleted).toEqual([77]);
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted']);
      expect(outage.kept.map((kept) => kept.what)).toEqual(['the failure of provisioning build-1 (DATABASE_UNAVAILABLE)']);

      runners.failUpdatesWith = undefined;
      await outage.kept[0].write();
      expect(runners.updates).toEqual([
        { id: 'runner-2', change: expect.objectContaining({ status: 'failed', failureCode: 'DATABASE_UNAVAILABLE', githubRunnerId: 77 }) },
      ]);
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted', 'provision_jit:failed']);
      expect(audit.events[1]).toMatchObject({
        runnerId: 'runner-2',
        details: { error_code: 'DATABASE_UNAVAILABLE', github_runner_id: 77, removed_from_github: true, ended_at: expect.any(String) },
      });
    });

    it('writes no second closing event when the row was closed by someone else before the database came back', async () => {
      await expect(runCutDuringGithub()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      runners.failUpdatesWith = undefined;
      runners.pendingIds.delete('runner-2');
      audit.events.push({ action: 'provision_jit', outcome: 'failed', runnerId: 'runner-2', details: { error_code: 'REQUEST_ABANDONED' } });

      await outage.kept[0].write();
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted', 'provision_jit:failed']);
    });

    it('does not wait on the database it knows is down: a failure after the reservation is kept at once', async () => {
      const error = new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, 'GitHub is unavailable', { status: 502 });
      const running = attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        outage.unavailableSince = new Date();
        runners.failUpdatesWith = new Error('never asked');
        throw error;
      });

      await expect(running).rejects.toBe(error);
      expect(outage.kept).toHaveLength(1);
      expect(outcomes(audit.events)).toEqual(['provision_jit:attempted']);
    });

    it('keeps nothing for an attempt that reserved no row: nothing was left pending', async () => {
      audit.failWith = connectionRefused();
      jest.spyOn(attempts['logger'], 'debug').mockImplementation(() => undefined);
      const refused = attempts.run(actor, 'jit', { name: 'build-1' }, async (attempt) => {
        await attempts.reserve(attempt, reservation);
        return issued();
      });

      await expect(refused).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(outage.kept).toEqual([]);
    });
  });

  describe('reserve', () => {
    const inAttempt = async (work: (attempt: Attempt) => Promise<unknown>) => {
      await attempts
        .run(actor, 'registration_token', token, async (attempt) => {
          await work(attempt);
          return issued();
        })
        .catch(() => undefined);
    };

    it("records the replaced runner as deleted before the new attempt, under the kind's action", async () => {
      const old = makeRunner({ id: 'old-1', kind: 'registration_token' });
      await inAttempt((attempt) => attempts.reserve(attempt, { ...reservation, replacing: { runner: old, details: { kind: old.kind } } }));

      expect(runners.updates[0]).toEqual({ id: 'old-1', change: expect.objectContaining({ status: 'deleted' }) });
      expect(audit.events.map((event) => [event.action, event.outcome, event.runnerId])).toEqual([
        ['replace', 'succeeded', 'old-1'],
        ['provision', 'attempted', 'runner-2'],
        ['provision', 'succeeded', 'runner-2'],
      ]);
    });

    it('refuses the name when the runner to replace was changed by another request, and writes only the denial', async () => {
      const old = makeRunner({ id: 'gone-1' });
      let refusal: unknown;
      await inAttempt((attempt) =>
        attempts.reserve(attempt, { ...reservation, replacing: { runner: old, details: {} } }).catch((error: unknown) => {
          refusal = error;
          throw error;
        }),
      );

      expect(refusal).toEqual(new NameTaken('build-1', 'being changed by another request', 'retry in a moment'));
      expect(outcomes(audit.events)).toEqual(['provision:denied']);
    });

    it("explains a name taken between the check and the insert with the caller's reason", async () => {
      runners.insertError = nameViolation();
      const refusals: unknown[] = [];
      await inAttempt((attempt) => attempts.reserve(attempt, reservation).catch((error: unknown) => refusals.push(error)));
      await inAttempt((attempt) =>
        attempts.reserve(attempt, { ...reservation, takenReason: 'taken' }).catch((error: unknown) => refusals.push(error)),
      );

      expect(refusals).toEqual([new NameTaken('build-1', 'taken by another runner'), new NameTaken('build-1', 'taken')]);
    });
  });

  describe('claimName', () => {
    const claim = (kind: 'jit' | 'registration_token', options: { replaceable?: boolean; releaseAbandoned?: (holder: RunnerEntity) => Promise<void> } = {}) =>
      attempts.run(actor, kind, { name: null }, async (attempt) => {
        const replacing = await attempts.claimName(attempt, { name: 'build-1', replaceable: options.replaceable ?? true, ...options });
        throw new Error(`claimed, replacing ${replacing?.id ?? 'nothing'}`);
      });

    it('frees a name nobody holds, and returns the caller\'s own pending runner of the same kind to replace', async () => {
      await expect(claim('jit')).rejects.toThrow('claimed, replacing nothing');
      runners.holder = makeRunner({ githubRunnerId: 5 });
      await expect(claim('jit')).rejects.toThrow('claimed, replacing runner-1');
    });

    it("refuses another owner's runner, a runner no longer pending, and any holder of a generated name", async () => {
      runners.holder = makeRunner({ ownerSubject: 'bob-sub', githubRunnerId: 5 });
      await expect(claim('jit')).rejects.toThrow('The runner name "build-1" is taken by another runner');
      runners.holder = makeRunner({ status: 'active', githubRunnerId: 5 });
      await expect(claim('jit')).rejects.toThrow('is taken by another runner');
      runners.holder = makeRunner({ githubRunnerId: 5 });
      await expect(claim('jit', { replaceable: false })).rejects.toThrow('is taken by another runner');
      expect(audit.events.map((event) => [event.outcome, event.runnerName])).toEqual(Array(3).fill(['denied', 'build-1']));
    });

    it('says which kind holds the name, and that a request still under way holds it', async () => {
      runners.holder = makeRunner({ kind: 'registration_token', expiresAt: new Date() });
      await expect(claim('jit')).rejects.toThrow(
        'held by your pending registration-token runner; choose another runner_name, or delete that runner first (a registration token is never replaced by a JIT runner)',
      );
      runners.holder = makeRunner({ kind: 'jit', githubRunnerId: 5 });
      await expect(claim('registration_token')).rejects.toThrow(
        'held by your pending JIT runner; choose another runner_name, or delete that runner first (a JIT runner is never replaced by a registration token)',
      );
      runners.holder = makeRunner({ kind: 'registration_token', expiresAt: null });
      await expect(claim('registration_token')).rejects.toThrow('is still being provisioned by an earlier request; retry in a moment');
      runners.holder = makeRunner({ kind: 'jit', githubRunnerId: null });
      await expect(claim('jit')).rejects.toThrow('is still being provisioned by an earlier request; retry in a moment');
    });

    it('lets the JIT flow release a name an abandoned request holds, whoever owns it', async () => {
      const abandoned = makeRunner({ ownerSubject: 'carol-sub', createdAt: new Date(Date.now() - 10 * 60_000) });
      runners.holder = abandoned;
      const released: RunnerEntity[] = [];
      await expect(claim('jit', { releaseAbandoned: async (holder) => void released.push(holder) })).rejects.toThrow(
        'claimed, replacing nothing',
      );
      expect(released).toEqual([abandoned]);
      // Without the hook, the abandoned request still holds the name.
      await expect(claim('jit')).rejects.toThrow('is taken by another runner');
    });
  });

  it('closes an abandoned attempt as failed with the event it never got, unless its row changed meanwhile', async () => {
    const carol = Actor.user({ issuer: 'https://issuer.test', subject: 'carol-sub', name: 'carol' });
    await attempts.closeAbandoned(actor, makeRunner({ ownerSubject: carol.subject }), { orphan: 'none' });
    await attempts.closeAbandoned(actor, makeRunner({ id: 'changed-1' }), { orphan: 'none' });

    expect(runners.updates).toEqual([{ id: 'runner-1', change: expect.objectContaining({ status: 'failed', failureCode: 'REQUEST_ABANDONED' }) }]);
    expect(audit.events).toEqual([
      {
        action: 'provision_jit',
        outcome: 'failed',
        runnerId: 'runner-1',
        runnerName: 'build-1',
        details: { error_code: 'REQUEST_ABANDONED', orphan: 'none', noticed_by: 'alice' },
      },
    ]);
  });
});
