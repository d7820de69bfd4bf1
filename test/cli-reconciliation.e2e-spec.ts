/**
 * sync-github and cleanup-stale-runners from the CLI: under the scheduler's lease (and doing nothing
 * when another instance holds it), stopping between batches on Ctrl-C, and the foreign runners
 * (`list-runners --foreign`).
 */
import request from 'supertest';
import type { AppConfig } from '../src/config/app-config.js';
import { EXIT_LEASE_HELD, EXIT_OK, EXIT_STOPPED_EARLY, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { ReconciliationScheduler, SYNC_JOB } from '../src/runners/reconciliation/reconciliation.scheduler.js';
import type { SyncReport } from '../src/runners/reconciliation/reconciliation-report.js';
import { startTestApp } from './support/app.js';
import { cli, cliWith, query, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';
import { insertRunners } from './support/runners.js';

const LIST_RUNNERS = /^\/orgs\/[^/]+\/actions\/runners$/;
const OTHER_INSTANCE = 'other-host:4242:cafe';

async function statuses(database: SharedDatabase): Promise<Record<string, string>> {
  const rows = await query<{ name: string; status: string }>(database, `SELECT name, status FROM runners`);
  return Object.fromEntries(rows.map((row) => [row.name, row.status]));
}

/** Another instance runs `job` now: it holds the lease for five more minutes. */
function holdLease(database: SharedDatabase, job: string, until = `now() + interval '5 minutes'`): Promise<unknown> {
  return query(
    database,
    `INSERT INTO scheduler_leases (job, holder, leased_until, last_started_at) VALUES ($1, $2, ${until}, now())
     ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, leased_until = EXCLUDED.leased_until`,
    [job, OTHER_INSTANCE],
  );
}

describe('CLI sync-github and cleanup-stale-runners under the lease (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    config = await seedThroughApp(database, simulator, async (t) => {
      const token = await t.oidc.token({ sub: 'frank-sub', email: 'frank@example.com' });
      const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: 'came-online' });
      expect(response.status).toBe(201);
      const [stale] = simulator.addRunners(1, { namePrefix: 'stale', status: 'offline' });
      await insertRunners(t.dataSource, [{ name: stale.name, githubRunnerId: stale.id, status: 'offline', createdHoursAgo: 30, lastSeenHoursAgo: 30 }]);
    });
    simulator.setRunnerStatus(simulator.findRunnerByName('came-online')!.id, { status: 'online' });
  });

  afterEach(() => {
    simulator.clearFaults();
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('sync-github does nothing while another instance holds its lease, names the holder and when the lease ends, and exits 75', async () => {
    await holdLease(database, 'sync-github');
    const before = simulator.requestCount('GET', LIST_RUNNERS);

    const result = await cli(config, 'sync-github');

    expect(result.code).toBe(EXIT_LEASE_HELD);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^sync-github is running elsewhere: other-host:4242:cafe holds its lease until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in \d+ s\)\. Nothing was done; run it again once that run is over/,
    );
    expect(simulator.requestCount('GET', LIST_RUNNERS)).toBe(before);
    expect((await statuses(database))['came-online']).toBe('pending');

    const json = await cli(config, 'sync-github', '--json');
    expect(json.code).toBe(EXIT_LEASE_HELD);
    const [lease] = await query<{ leased_until: Date }>(database, `SELECT leased_until FROM scheduler_leases WHERE job = 'sync-github'`);
    expect(JSON.parse(json.stdout)).toEqual({
      job: 'sync-github',
      ran: false,
      reason: 'lease_held',
      lease_holder: OTHER_INSTANCE,
      leased_until: new Date(lease.leased_until).toISOString(),
    });
  });

  it('cleanup-stale-runners does the same; its --dry-run, which changes nothing, still runs', async () => {
    await holdLease(database, 'cleanup-stale-runners');
    const result = await cli(config, 'cleanup-stale-runners', '--hours', '24');
    expect(result.code).toBe(EXIT_LEASE_HELD);
    expect(result.stderr).toMatch(/^cleanup-stale-runners is running elsewhere: other-host:4242:cafe holds its lease until /);
    expect(simulator.requestCount('DELETE', /\/actions\/runners\/\d+$/)).toBe(0);

    const dryRun = await cli(config, 'cleanup-stale-runners', '--hours', '24', '--dry-run');
    expect(dryRun.code).toBe(EXIT_OK);
    expect(dryRun.stdout).toMatch(/would be deleted/);
    expect(Object.values(await statuses(database))).not.toContain('deleted');
  });

  it('runs once the holder is gone (its lease ran out), and gives the lease back', async () => {
    await holdLease(database, 'sync-github', `now() - interval '1 second'`);

    const result = await cli(config, 'sync-github', '--json');

    expect(result.code).toBe(EXIT_OK);
    expect((JSON.parse(result.stdout) as SyncReport).updated).toBe(1);
    expect((await statuses(database))['came-online']).toBe('active');
    const [lease] = await query<{ holder: string | null; finished: boolean }>(
      database,
      `SELECT holder, last_finished_at >= last_started_at AS finished FROM scheduler_leases WHERE job = 'sync-github'`,
    );
    expect(lease).toEqual({ holder: null, finished: true });
  });

  it('stops on Ctrl-C between two pages, says so and exits 130, leaving nothing half done', async () => {
    await query(database, `UPDATE scheduler_leases SET leased_until = now() - interval '1 second', holder = NULL`);
    simulator.setRunnerStatus(simulator.findRunnerByName('came-online')!.id, { status: 'offline' });
    simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '1' }, delayMs: 400, times: 1 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);

    const result = await cliWith({ stop: stop.signal }, config, 'sync-github');

    expect(result.code).toBe(EXIT_STOPPED_EARLY);
    expect(result.stdout).toMatch(/^No runner changed status\.\nSync stopped before GitHub's list was complete \(\d+\.\d s\): nothing was changed\.\n$/);
    expect(result.stderr).toBe("Stopped early, before GitHub's list was complete: nothing was changed\n");
    expect((await statuses(database))['came-online']).toBe('active');
    const [lease] = await query<{ holder: string | null }>(database, `SELECT holder FROM scheduler_leases WHERE job = 'sync-github'`);
    expect(lease.holder).toBeNull();
  });
});

describe('CLI: the runners this service did not issue (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    config = await seedThroughApp(database, simulator, async () => {});
    simulator.addRunners(1, { namePrefix: 'someones-laptop', status: 'online' });
    // A name that would clear the screen and turn it red if it were printed as it is.
    simulator.addRunners(1, { namePrefix: '\u001b[2J\u001b[31mred', status: 'offline' });
    simulator.addRunners(1, { namePrefix: 'arc-runner', status: 'online' });
    config = { ...config, runners: { ...config.runners, knownRunnerNames: [/^(?:arc-.*)$/u] } };
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('sync-github counts them in its summary and its --json report', async () => {
    const table = await cli(config, 'sync-github');
    expect(table.code).toBe(EXIT_OK);
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 foreign runners on GitHub (not issued by this service; 2 new): see list-runners --foreign.',
    );
    const json = await cli(config, 'sync-github', '--json');
    expect((JSON.parse(json.stdout) as SyncReport).foreign).toEqual({ policy: 'report', total: 2, new: [], removed: [], failed: [] });
  });

  it('list-runners --foreign prints them in a table with control characters masked, and --json as the admin API', async () => {
    const table = await cli(config, 'list-runners', '--foreign');
    expect(table).toMatchObject({ code: EXIT_OK, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['NAME', 'GITHUB ID', 'STATUS', 'BUSY', 'FIRST SEEN', 'LAST SEEN', 'LABELS']);
    expect(lines).toHaveLength(4);
    expect(table.stdout).not.toContain('\u001b');
    expect(table.stdout).toContain('?[2J?[31mred-');
    expect(lines[3]).toBe('2 foreign runners: on GitHub, not issued by this service, not matched by KNOWN_RUNNER_NAMES (as of the last sync).');

    const json = await cli(config, 'list-runners', '--foreign', '--json');
    const body = JSON.parse(json.stdout) as { foreign_runners: { name: string; status: string }[] };
    expect(body.foreign_runners.map((runner) => runner.name.replace(/-\d+$/, '')).sort()).toEqual(['\u001b[2J\u001b[31mred', 'someones-laptop']);
  });

  it('--foreign takes neither --status nor --user: exit 2', async () => {
    const result = await cli(config, 'list-runners', '--foreign', '--status', 'active');
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(/--foreign lists runners this service did not issue/);
  });
});

/** The service and the CLI at once need a database both reach: the PostgreSQL server (CI has one). */
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('CLI and a running service on one PostgreSQL database (e2e)', () => {
  it("holds the lease while sync-github runs: the service's scheduled sync leaves that tick alone", async () => {
    const [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    try {
      const config = await seedThroughApp(database, simulator, async () => {});
      const t = await startTestApp({ database: database.config, simulator });
      try {
        simulator.addRunners(150, { namePrefix: 'shared', status: 'online' });
        // GitHub is slow with the first page: the CLI holds the lease meanwhile.
        simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '1' }, delayMs: 3000, times: 1 });
        const running = cli(config, 'sync-github');
        const holder = async () =>
          (await query<{ holder: string | null }>(database, `SELECT holder FROM scheduler_leases WHERE job = 'sync-github'`))[0]?.holder;
        for (let i = 0; i < 100 && !(await holder()); i++) await new Promise((resolve) => setTimeout(resolve, 50));

        expect(await holder()).toMatch(/^cli@[^:]+:\d+:[0-9a-f]{8}$/);
        // Even with the interval passed since the CLI started, the lease keeps the scheduler out.
        await query(database, `UPDATE scheduler_leases SET last_started_at = now() - interval '1 day'`);
        expect(await t.app.get(ReconciliationScheduler).tick(SYNC_JOB)).toBe('not-due');

        expect((await running).code).toBe(EXIT_OK);
        expect(simulator.requestCount('GET', LIST_RUNNERS)).toBe(2);
      } finally {
        await t.close();
      }
    } finally {
      await simulator.stop();
      await database.drop();
    }
  });
});
