import { SchedulerRegistry } from '@nestjs/schedule';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { CLEANUP_JOB, ReconciliationScheduler, SYNC_JOB } from '../src/runners/reconciliation/reconciliation.scheduler.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';
import { insertRunners, runnersByName } from './support/runners.js';

const LIST_RUNNERS = /^\/orgs\/[^/]+\/actions\/runners$/;

/** Polls until `check` holds (bounded: about 10 s), for work that happens in the background. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Two instances need one database they can both reach: the PostgreSQL server (CI has one). */
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('Scheduler: two instances on one PostgreSQL database (e2e)', () => {
  let database: TestDatabase;
  let simulator: GithubSimulator;
  let first: TestApp;
  let second: TestApp;
  let schedulers: ReconciliationScheduler[];

  beforeAll(async () => {
    [database, simulator] = await Promise.all([testDatabaseConfig(), GithubSimulator.start()]);
    // The timers stay off: the test plays the ticks itself, at the same moment on both instances.
    first = await startTestApp({ database: database.config, simulator });
    second = await startTestApp({ database: database.config, simulator });
    schedulers = [first, second].map((t) => t.app.get(ReconciliationScheduler));
    const runners = simulator.addRunners(250, { namePrefix: 'shared', status: 'online' });
    await insertRunners(first.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await simulator?.stop();
    await database?.drop();
  });

  const listRequests = () => simulator.requestCount('GET', LIST_RUNNERS);
  const tickBoth = async (job: string) => (await Promise.all(schedulers.map((scheduler) => scheduler.tick(job)))).sort();
  /** As if the job's interval had passed since it last started. */
  const nextTick = (job: string) =>
    first.dataSource.query(`UPDATE scheduler_leases SET last_started_at = now() - interval '1 day' WHERE job = $1`, [job]);

  it('runs each sync tick once, on one of the two instances', async () => {
    const before = listRequests();
    expect(await tickBoth(SYNC_JOB)).toEqual(['not-due', 'ran']);
    // One full listing: 250 runners are 3 pages.
    expect(listRequests() - before).toBe(3);
    const rows = await runnersByName(first.dataSource);
    expect([...rows.values()].every((row) => row.status === 'active')).toBe(true);

    // The same tick again (timers are never exactly aligned): nobody runs it twice.
    expect(await tickBoth(SYNC_JOB)).toEqual(['not-due', 'not-due']);
    expect(listRequests() - before).toBe(3);

    await nextTick(SYNC_JOB);
    expect(await tickBoth(SYNC_JOB)).toEqual(['not-due', 'ran']);
    expect(listRequests() - before).toBe(6);
  });

  it('leaves a job to the instance that holds its lease, until the lease runs out', async () => {
    // Another instance is running the sync (or died running it): its lease still holds.
    await first.dataSource.query(
      `UPDATE scheduler_leases SET holder = 'other-host:1:dead', leased_until = now() + interval '1 minute',
              last_started_at = now() - interval '1 day' WHERE job = $1`,
      [SYNC_JOB],
    );
    expect(await tickBoth(SYNC_JOB)).toEqual(['not-due', 'not-due']);
    await first.dataSource.query(`UPDATE scheduler_leases SET leased_until = now() - interval '1 second' WHERE job = $1`, [SYNC_JOB]);
    expect(await tickBoth(SYNC_JOB)).toEqual(['not-due', 'ran']);
  });

  it('runs each cleanup tick once as well: each stale runner is removed from GitHub once', async () => {
    const stale = simulator.addRunners(3, { namePrefix: 'stale', status: 'offline' });
    await insertRunners(
      first.dataSource,
      stale.map((runner) => ({ name: runner.name, githubRunnerId: runner.id, status: 'offline' as const, createdHoursAgo: 48 })),
    );
    const deletes = () => simulator.requestCount('DELETE', /\/actions\/runners\/\d+$/);
    const before = deletes();

    expect(await tickBoth(CLEANUP_JOB)).toEqual(['not-due', 'ran']);
    expect(await tickBoth(CLEANUP_JOB)).toEqual(['not-due', 'not-due']);

    expect(deletes() - before).toBe(3);
    const rows = await runnersByName(first.dataSource);
    expect(stale.every((runner) => rows.get(runner.name)?.status === 'deleted')).toBe(true);
    const summaries: unknown[] = await first.dataSource.query(
      `SELECT 1 FROM audit_events WHERE action = 'cleanup' AND runner_id IS NULL AND actor = 'system:scheduler'`,
    );
    expect(summaries).toHaveLength(1);
  });
});

describe('Scheduler on one instance (e2e)', () => {
  it('does not start a tick while the previous run is still going', async () => {
    const t = await startTestApp();
    try {
      const scheduler = t.app.get(ReconciliationScheduler);
      t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, delayMs: 500, times: 1 });
      const running = scheduler.tick(SYNC_JOB);
      expect(await scheduler.tick(SYNC_JOB)).toBe('overrun');
      expect(await running).toBe('ran');
      expect(t.simulator.requestCount('GET', LIST_RUNNERS)).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('syncs in the background when turned on, and a failing sync does not stop the next one', async () => {
    const t = await startTestApp({ scheduler: { enabled: true, syncIntervalSeconds: 1 } });
    try {
      // The first background sync fails (its read and both retries); a later one gets through.
      t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, status: 502, times: 3 });
      const [runner] = t.simulator.addRunners(1, { namePrefix: 'background', status: 'online' });
      await insertRunners(t.dataSource, [{ name: runner.name, githubRunnerId: runner.id }]);
      expect(t.app.get(SchedulerRegistry).getIntervals().sort()).toEqual([CLEANUP_JOB, SYNC_JOB]);
      const synced = await eventually(async () => (await runnersByName(t.dataSource)).get(runner.name)?.status === 'active');
      expect(synced).toBe(true);
      const syncEvents = (): Promise<{ action: string; outcome: string; actor: string }[]> =>
        t.dataSource.query(`SELECT action, outcome, actor FROM audit_events WHERE action = 'sync' ORDER BY occurred_at`);
      // The run's summary event is written after its changes commit: wait for it too.
      await eventually(async () => (await syncEvents()).some((event) => event.outcome === 'succeeded'));
      const events = await syncEvents();
      expect(events.slice(0, 2)).toEqual([
        { action: 'sync', outcome: 'failed', actor: 'system:scheduler' },
        { action: 'sync', outcome: 'succeeded', actor: 'system:scheduler' },
      ]);
    } finally {
      await t.close();
    }
  });

  it('stays off with SCHEDULER_ENABLED=false', async () => {
    const t = await startTestApp({ scheduler: { enabled: false, syncIntervalSeconds: 1 } });
    try {
      expect(t.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
