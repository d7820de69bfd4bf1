import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { PolicyStore } from '../policy/policy.store.js';
import type { Draining } from './draining.service.js';
import { READINESS_DATABASE_TIMEOUT_MS, ReadinessService } from './readiness.service.js';

/** A database that answers SELECT 1 and knows `applied` of two migrations; records every query. */
class FakeDatabase {
  readonly queries: string[] = [];
  applied = ['First1', 'Second2'];
  hang = false;
  readonly migrations = [{ name: 'First1' }, { name: 'Second2' }];

  query(sql: string): Promise<unknown> {
    this.queries.push(sql);
    if (this.hang) return new Promise(() => undefined);
    if (sql.includes('to_regclass')) return Promise.resolve([{ exists: true }]);
    if (sql.includes('FROM "migrations"')) return Promise.resolve(this.applied.map((name) => ({ name })));
    return Promise.resolve([{ '?column?': 1 }]);
  }
}

const policyStore = (status: () => unknown = () => ({ source: null, loadedAt: new Date() })) =>
  ({ status }) as unknown as PolicyStore;
const notDraining = { active: false } as Draining;

describe('ReadinessService', () => {
  let database: FakeDatabase;
  let warn: jest.Spied<Logger['warn']>;

  beforeEach(() => {
    database = new FakeDatabase();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  const service = (policy = policyStore()) =>
    new ReadinessService(database as unknown as DataSource, policy, notDraining);

  it('reads the migrations table until every migration is applied, and never again after', async () => {
    database.applied = ['First1'];
    const readiness = service();
    expect((await readiness.check()).checks.migrations).toBe('pending');
    database.applied = ['First1', 'Second2'];
    expect(await readiness.check()).toEqual({
      ready: true,
      checks: { database: 'ok', migrations: 'ok', policy: 'ok', shutdown: 'ok' },
    });
    const asked = database.queries.length;

    await readiness.check();
    await readiness.check();
    // Two probes later: SELECT 1 each, nothing about migrations.
    expect(database.queries.slice(asked)).toEqual(['SELECT 1', 'SELECT 1']);
  });

  it('asks the database once for probes that arrive while a check is under way', async () => {
    const readiness = service();
    await readiness.check();
    const asked = database.queries.length;
    const answers = await Promise.all([readiness.check(), readiness.check(), readiness.check()]);
    expect(answers.every((answer) => answer.ready)).toBe(true);
    expect(database.queries.slice(asked)).toEqual(['SELECT 1']);
  });

  it('counts a database that does not answer as down, and says so once in the log', async () => {
    jest.useFakeTimers();
    database.hang = true;
    const readiness = service();
    const first = readiness.check();
    await jest.advanceTimersByTimeAsync(READINESS_DATABASE_TIMEOUT_MS);
    expect(await first).toEqual({
      ready: false,
      checks: { database: 'down', migrations: 'unknown', policy: 'ok', shutdown: 'ok' },
    });
    const second = readiness.check();
    await jest.advanceTimersByTimeAsync(READINESS_DATABASE_TIMEOUT_MS);
    await second;
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      `Not ready (database down, migrations unknown): database: no answer within ${READINESS_DATABASE_TIMEOUT_MS} ms; ` +
        `migrations: no answer within ${READINESS_DATABASE_TIMEOUT_MS} ms`,
    ]);
  });

  it('names the policy when no policy is in force', async () => {
    const broken = policyStore(() => {
      throw new Error('no policy');
    });
    expect((await service(broken).check()).checks).toEqual({
      database: 'ok',
      migrations: 'ok',
      policy: 'down',
      shutdown: 'ok',
    });
  });

  it('is not ready while draining, though every dependency answers', async () => {
    const readiness = new ReadinessService(database as unknown as DataSource, policyStore(), { active: true } as Draining);
    expect(await readiness.check()).toEqual({
      ready: false,
      checks: { database: 'ok', migrations: 'ok', policy: 'ok', shutdown: 'draining' },
    });
  });
});
