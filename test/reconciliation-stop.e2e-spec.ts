/**
 * Stopping a sync or a cleanup under way (shutdown, Ctrl-C, a lost lease): it stops between two
 * pages or batches, each batch written whole or not at all, and its report says it stopped early.
 */
import { Actor } from '../src/auth/actor.js';
import { ReconciliationScheduler, SYNC_JOB } from '../src/runners/reconciliation/reconciliation.scheduler.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { gracefulShutdown } from '../src/shutdown.js';
import { GithubClient } from '../src/github/github.client.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { startTestApp, type TestApp } from './support/app.js';
import { query, sharedDatabase } from './support/cli.js';
import { insertRunners, runnersByName } from './support/runners.js';

const LIST_RUNNERS = /^\/orgs\/[^/]+\/actions\/runners$/;
const ops = Actor.system('test');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** GitHub is slow with one request (SLOW_MS); the stop arrives while it is under way (STOP_AFTER_MS). */
const SLOW_MS = 1500;
const STOP_AFTER_MS = 300;

/** One call to GitHub first, so that the installation token is at hand and the slow request goes out at once. */
async function warmUp(t: TestApp): Promise<void> {
  await t.app.get(GithubClient).getRunner(1);
}

describe('Stopping reconciliation between batches (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await warmUp(t);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    t.simulator.reset();
    await t.dataSource.query('DELETE FROM runners');
    await t.dataSource.query('DELETE FROM foreign_runners');
    await t.dataSource.query('SELECT prune_audit_events(now())');
  });

  const statusCounts = async () => {
    const counts: Record<string, number> = {};
    for (const row of (await runnersByName(t.dataSource)).values()) counts[row.status] = (counts[row.status] ?? 0) + 1;
    return counts;
  };

  it('a sync stopped while GitHub is listed reads no further page and changes nothing', async () => {
    const runners = t.simulator.addRunners(250, { namePrefix: 'listing', status: 'online' });
    await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
    t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '1' }, delayMs: SLOW_MS, times: 1 });
    const stop = new AbortController();

    const running = t.app.get(GithubSyncService).syncWithGithub(ops, { signal: stop.signal });
    await pause(STOP_AFTER_MS);
    stop.abort();
    const report = await running;

    expect(report).toMatchObject({ listing_complete: false, stopped_early: true, updated: 0, deleted: 0, changes: [] });
    // Page 1 was under way and finished; pages 2 and 3 were never asked for.
    expect(t.simulator.requestCount('GET', LIST_RUNNERS)).toBe(1);
    expect(await statusCounts()).toEqual({ pending: 250 });
    expect(await t.dataSource.query(`SELECT action FROM audit_events`)).toEqual([]);
  });

  it('a sync stopped between two batches of writes commits the first whole and does not start the second', async () => {
    // 600 changes are two batches (500 rows each at most).
    const runners = t.simulator.addRunners(600, { namePrefix: 'batch', status: 'online' });
    await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
    const stop = new AbortController();
    const progress: string[] = [];

    const report = await t.app.get(GithubSyncService).syncWithGithub(ops, {
      signal: stop.signal,
      onProgress: (message) => {
        progress.push(message);
        // Ctrl-C while the first batch is being written: it arrives before the second starts.
        if (message.startsWith('Wrote batch 1 ')) stop.abort();
      },
    });

    expect(progress).toEqual(['Listed 600 runners on GitHub in 6 requests', 'Wrote batch 1 of 2 (500 runners)']);
    expect(report).toMatchObject({ listing_complete: true, stopped_early: true, updated: 500, skipped: 0 });
    expect(await statusCounts()).toEqual({ active: 500, pending: 100 });
    const summaries: { details: { stopped_early: boolean; updated: number } }[] = await t.dataSource.query(
      `SELECT details FROM audit_events WHERE action = 'sync' AND runner_id IS NULL`,
    );
    expect(summaries.map((event) => [event.details.updated, event.details.stopped_early])).toEqual([[500, true]]);

    // The next sync does the rest.
    const next = await t.app.get(GithubSyncService).syncWithGithub(ops);
    expect(next).toMatchObject({ stopped_early: false, updated: 100 });
    expect(await statusCounts()).toEqual({ active: 600 });
  });

  it('a cleanup stopped while it removes a runner finishes that one, and starts no other', async () => {
    const stale = t.simulator.addRunners(3, { namePrefix: 'stale', status: 'offline' });
    await insertRunners(
      t.dataSource,
      stale.map((runner, index) => ({
        name: runner.name,
        githubRunnerId: runner.id,
        status: 'offline' as const,
        createdHoursAgo: 50 - index,
        lastSeenHoursAgo: 48 - index,
      })),
    );
    // GitHub is slow to answer about the first (oldest) runner: the stop arrives meanwhile.
    t.simulator.injectFault({ method: 'GET', path: `/orgs/${t.simulator.org}/actions/runners/${stale[0].id}`, delayMs: SLOW_MS, times: 1 });
    const stop = new AbortController();

    const running = t.app.get(StaleCleanupService).cleanupStaleRunners(ops, { hours: 24, dryRun: false, signal: stop.signal });
    await pause(STOP_AFTER_MS);
    stop.abort();
    const report = await running;

    expect(report).toMatchObject({ stopped_early: true, stale: 3, skipped_busy: [], failed: [], suspended: null });
    expect(report.deleted.map((change) => change.runner_name)).toEqual([stale[0].name]);
    expect(t.simulator.runners().map((runner) => runner.name)).toEqual([stale[1].name, stale[2].name]);
    const rows = await runnersByName(t.dataSource);
    expect(stale.map((runner) => rows.get(runner.name)?.status)).toEqual(['deleted', 'offline', 'offline']);
    const events: { runner_name: string | null; details: { stopped_early?: boolean } }[] = await t.dataSource.query(
      `SELECT runner_name, details FROM audit_events WHERE action = 'cleanup' ORDER BY occurred_at`,
    );
    expect(events.map((event) => event.runner_name)).toEqual([stale[0].name, null]);
    expect(events[1].details.stopped_early).toBe(true);
  });
});

describe('Shutdown during a scheduled sync (e2e)', () => {
  it('stops the sync between pages, changes nothing, gives the lease back and lets the service stop', async () => {
    // A database that outlives the service, to look at after it stopped.
    const [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    try {
      const t = await startTestApp({ database: database.config, simulator });
      try {
        await warmUp(t);
        const runners = simulator.addRunners(250, { namePrefix: 'shutdown', status: 'online' });
        await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
        simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '1' }, delayMs: SLOW_MS, times: 1 });

        const tick = t.app.get(ReconciliationScheduler).tick(SYNC_JOB);
        await pause(STOP_AFTER_MS);
        // What SIGTERM does (main.ts), without the drain period.
        await gracefulShutdown(t.app, { drainMs: 0, closeTimeoutMs: 10_000 }, 'test');
        expect(await tick).toBe('ran');
      } finally {
        await t.close();
      }
      expect(simulator.requestCount('GET', LIST_RUNNERS)).toBe(1);
      expect(await query(database, `SELECT status, count(*)::int AS count FROM runners GROUP BY status`)).toEqual([
        { status: 'pending', count: 250 },
      ]);
      expect(await query(database, `SELECT holder, last_finished_at IS NOT NULL AS finished FROM scheduler_leases WHERE job = $1`, [SYNC_JOB])).toEqual([
        { holder: null, finished: true },
      ]);
    } finally {
      await simulator.stop();
      await database.drop();
    }
  });
});
