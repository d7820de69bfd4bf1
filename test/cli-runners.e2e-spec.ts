import request from 'supertest';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import type { CleanupReport, SyncReport } from '../src/runners/reconciliation/reconciliation-report.js';
import type { TestApp } from './support/app.js';
import { cli, query, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';

interface ProvisionedRunner {
  runner_id: string;
  runner_name: string;
}

interface RunnerRow {
  name: string;
  status: string;
  busy: boolean;
}

async function provision(t: TestApp, token: string, name: string, labels = ['cli']): Promise<ProvisionedRunner> {
  const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels });
  expect(response.status).toBe(201);
  return response.body as ProvisionedRunner;
}

/** The runner's id on the simulated GitHub. */
function githubIdOf(simulator: GithubSimulator, name: string): number {
  const runner = simulator.findRunnerByName(name);
  if (!runner) throw new Error(`GitHub has no runner ${name}`);
  return runner.id;
}

/** A table printed by the CLI: the header's columns, and each line cut at those columns. */
function parseTable(stdout: string): { header: string[]; rows: string[][]; after: string[] } {
  const lines = stdout.trimEnd().split('\n');
  const headerLine = lines[0];
  const starts = [...headerLine.matchAll(/\S+( \S+)*/g)].map((match) => match.index ?? 0);
  const header = starts.map((start, i) => headerLine.slice(start, starts[i + 1]).trim());
  const rowLines = lines.slice(1).filter((line) => !/^(\d+ runners?:|Synced|Dry run|\d+ stale|No )/.test(line));
  const rows = rowLines.map((line) => starts.map((start, i) => line.slice(start, starts[i + 1]).trim()));
  return { header, rows, after: lines.slice(1 + rowLines.length) };
}

async function statuses(database: SharedDatabase): Promise<Record<string, string>> {
  const rows = await query<RunnerRow>(database, `SELECT name, status, busy FROM runners WHERE status <> 'failed'`);
  return Object.fromEntries(rows.map((row) => [row.name, row.status]));
}

describe('CLI list-runners (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    await seedThroughApp(database, simulator, async (t) => {
      const alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
      const bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
      await provision(t, alice, 'alice-old');
      await provision(t, alice, 'alice-build-1');
      await provision(t, alice, 'alice-build-2');
      await provision(t, bob, 'bob-gpu-1', ['gpu']);
      // As a sync would leave them: one runner online, one removed.
      await t.dataSource.query(`UPDATE runners SET status = 'active', last_seen_at = now() WHERE name = 'alice-build-1'`);
      await t.dataSource.query(`UPDATE runners SET status = 'deleted', deleted_at = now() WHERE name = 'alice-old'`);
    });
    // list-runners needs only the database: no GitHub or OIDC settings.
    config = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('prints every live runner in an aligned table, newest first, and a summary line', async () => {
    const result = await cli(config, 'list-runners');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(['NAME', 'STATUS', 'BUSY', 'KIND', 'OWNER', 'GITHUB ID', 'CREATED', 'LABELS']);
    expect(table.rows.map((row) => row.slice(0, 5))).toEqual([
      ['bob-gpu-1', 'pending', 'no', 'jit', 'bob@example.com'],
      ['alice-build-2', 'pending', 'no', 'jit', 'alice@example.com'],
      ['alice-build-1', 'active', 'no', 'jit', 'alice@example.com'],
    ]);
    const [bob] = table.rows;
    expect(bob[5]).toBe(String(githubIdOf(simulator, 'bob-gpu-1')));
    expect(bob[6]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
    expect(bob[7]).toBe('self-hosted,linux,x64,gpu');
    expect(table.after).toEqual(['3 runners: 1 active, 2 pending']);
  });

  it('--status shows the runners in that status, deleted ones included when asked for', async () => {
    const active = await cli(config, 'list-runners', '--status', 'active');
    expect(active.code).toBe(EXIT_OK);
    expect(parseTable(active.stdout).rows.map((row) => row[0])).toEqual(['alice-build-1']);
    expect(active.stdout).toMatch(/\n1 runner: 1 active\n$/);

    const deleted = await cli(config, 'list-runners', '--status', 'deleted');
    expect(parseTable(deleted.stdout).rows.map((row) => row[0])).toEqual(['alice-old']);
  });

  it("--user matches the owner's name or subject", async () => {
    const byName = await cli(config, 'list-runners', '--user', 'alice@example.com');
    expect(parseTable(byName.stdout).rows.map((row) => row[0])).toEqual(['alice-build-2', 'alice-build-1']);
    expect(byName.stdout).toMatch(/\n2 runners: 1 active, 1 pending\n$/);
    const bySubject = await cli(config, 'list-runners', '--user', 'bob-sub', '--status', 'pending');
    expect(parseTable(bySubject.stdout).rows.map((row) => row[0])).toEqual(['bob-gpu-1']);
  });

  it('says so when no runner matches', async () => {
    const result = await cli(config, 'list-runners', '--user', 'nobody@example.com');
    expect(result).toEqual({ code: EXIT_OK, stdout: 'No runners match.\n', stderr: '' });
  });

  it('--json prints {"runners": [...]} with every field of the API', async () => {
    const result = await cli(config, 'list-runners', '--json', '--user', 'alice-sub');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const body = JSON.parse(result.stdout) as { runners: Record<string, unknown>[] };
    expect(body.runners.map((runner) => runner.runner_name)).toEqual(['alice-build-2', 'alice-build-1']);
    expect(body.runners[1]).toMatchObject({
      runner_id: expect.any(String),
      status: 'active',
      busy: false,
      kind: 'jit',
      ephemeral: true,
      labels: ['self-hosted', 'linux', 'x64', 'cli'],
      github_runner_id: githubIdOf(simulator, 'alice-build-1'),
      owner: 'alice@example.com',
      last_seen_at: expect.any(String),
      created_at: expect.any(String),
    });
    const empty = await cli(config, 'list-runners', '--json', '--user', 'nobody');
    expect(JSON.parse(empty.stdout)).toEqual({ runners: [] });
  });

  it.each([
    [['--status', 'nonsense'], /argument 'nonsense' is invalid\. Choose one of: pending, active, offline, deleted, failed/],
    [['--user', ''], /Give the owner name or subject/],
    [['--status'], /argument missing/],
  ])('exits 2 on bad usage %j, saying what to give', async (args, message) => {
    const result = await cli(config, 'list-runners', ...args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('CLI sync-github (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    config = await seedThroughApp(database, simulator, async (t) => {
      const carol = await t.oidc.token({ sub: 'carol-sub', email: 'carol@example.com' });
      await provision(t, carol, 'sync-started');
      await provision(t, carol, 'sync-finished');
      await provision(t, carol, 'sync-idle');
      // sync-finished was seen before; then it ran its one job and GitHub removed it.
      await t.dataSource.query(`UPDATE runners SET status = 'offline' WHERE name = 'sync-finished'`);
    });
    simulator.setRunnerStatus(githubIdOf(simulator, 'sync-started'), { status: 'online' });
    simulator.completeJob(githubIdOf(simulator, 'sync-finished'));
  });

  afterEach(() => {
    simulator.clearFaults();
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('updates runners from GitHub and prints what changed, with a summary line and progress on stderr', async () => {
    const result = await cli(config, 'sync-github');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stderr).toMatch(/^Listed 2 runners on GitHub in 1 request\n$/);
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(['NAME', 'OWNER', 'GITHUB ID', 'FROM', 'TO', 'REASON']);
    expect(table.rows).toEqual(
      expect.arrayContaining([
        ['sync-started', 'carol@example.com', String(githubIdOf(simulator, 'sync-started')), 'pending', 'active', 'online on GitHub'],
        ['sync-finished', 'carol@example.com', expect.stringMatching(/^\d+$/), 'offline', 'deleted', 'gone from GitHub'],
      ]),
    );
    expect(table.rows).toHaveLength(2);
    expect(table.after).toEqual([
      expect.stringMatching(
        /^Synced with GitHub in \d+\.\d s: 2 runners on GitHub \(1 list request\), 3 of ours checked, 1 updated, 1 marked deleted\.$/,
      ),
    ]);
    expect(await statuses(database)).toEqual({ 'sync-started': 'active', 'sync-finished': 'deleted', 'sync-idle': 'pending' });
    const audit = await query<{ actor: string; runner_name: string | null }>(
      database,
      `SELECT actor, runner_name FROM audit_events WHERE action = 'sync' ORDER BY occurred_at`,
    );
    expect(audit).toEqual([
      { actor: 'system:cli', runner_name: 'sync-finished' },
      { actor: 'system:cli', runner_name: null },
    ]);
  });

  it('says when nothing changed, and --json prints the report', async () => {
    const table = await cli(config, 'sync-github');
    expect(table.code).toBe(EXIT_OK);
    expect(table.stdout).toMatch(/^No runner changed status\.\nSynced with GitHub in .*, 2 of ours checked, 0 updated, 0 marked deleted\.\n$/);

    simulator.setRunnerStatus(githubIdOf(simulator, 'sync-started'), { busy: true });
    const json = await cli(config, 'sync-github', '--json');
    expect(json.code).toBe(EXIT_OK);
    const report = JSON.parse(json.stdout) as SyncReport;
    expect(report).toMatchObject({ github_runners: 2, list_requests: 1, checked: 2, updated: 1, deleted: 0, skipped: 0, changes: [] });
    expect(report.duration_ms).toEqual(expect.any(Number));
    const [started] = await query<RunnerRow>(database, `SELECT name, status, busy FROM runners WHERE name = 'sync-started'`);
    expect(started).toMatchObject({ status: 'active', busy: true });
  });

  it('exits 1 and changes nothing when GitHub fails', async () => {
    simulator.injectFault({ method: 'GET', path: /\/actions\/runners$/, status: 502 });
    simulator.setRunnerStatus(githubIdOf(simulator, 'sync-idle'), { status: 'online' });
    const before = await statuses(database);
    const result = await cli(config, 'sync-github', '--json');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^Error: GITHUB_UNAVAILABLE: /m);
    expect(await statuses(database)).toEqual(before);
  });

  it('exits 1 when GitHub is not configured', async () => {
    const withoutGithub = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
    const result = await cli(withoutGithub, 'sync-github');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/GitHub is not configured: set GITHUB_APP_ID/);
  });
});

describe('CLI cleanup-stale-runners (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;
  const STALE = ['stale-pending', 'stale-offline', 'stale-busy', 'stale-failing', 'stale-back-online'];
  const deleteRequests = () => simulator.requests().filter((r) => r.method === 'DELETE').length;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    config = await seedThroughApp(database, simulator, async (t) => {
      const carol = await t.oidc.token({ sub: 'carol-sub', email: 'carol@example.com' });
      for (const name of [...STALE, 'fresh-pending']) await provision(t, carol, name);
      // Created a little over 30 hours ago, a minute apart in STALE's order; the offline ones were
      // last seen then too.
      await t.dataSource.query(
        `UPDATE runners SET created_at = now() - interval '30 hours' - (10 - array_position($1::text[], name)) * interval '1 minute',
           status = CASE WHEN name = 'stale-pending' THEN 'pending' ELSE 'offline' END
         WHERE name = ANY($1)`,
        [STALE],
      );
      await t.dataSource.query(`UPDATE runners SET last_seen_at = created_at WHERE status = 'offline'`);
    });
    simulator.setRunnerStatus(githubIdOf(simulator, 'stale-busy'), { busy: true });
    simulator.setRunnerStatus(githubIdOf(simulator, 'stale-back-online'), { status: 'online' });
  });

  afterEach(() => {
    simulator.clearFaults();
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('--dry-run lists what would be deleted and changes nothing', async () => {
    const before = await statuses(database);
    const requestsBefore = deleteRequests();
    const result = await cli(config, 'cleanup-stale-runners', '--hours', '24', '--dry-run');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const table = parseTable(result.stdout);
    expect(table.header).toEqual(['NAME', 'OWNER', 'STATUS', 'GITHUB ID', 'RESULT', 'REASON']);
    expect(table.rows.map((row) => [row[0], row[2], row[4], row[5]])).toEqual([
      ['stale-pending', 'pending', 'would be deleted', 'pending for 30 h'],
      ['stale-offline', 'offline', 'would be deleted', 'offline for 30 h'],
      ['stale-busy', 'offline', 'would be deleted', 'offline for 30 h'],
      ['stale-failing', 'offline', 'would be deleted', 'offline for 30 h'],
      ['stale-back-online', 'offline', 'would be deleted', 'offline for 30 h'],
    ]);
    expect(table.after).toEqual([
      expect.stringMatching(
        /^Dry run, nothing changed\. 5 stale runners \(pending or offline for more than 24 hours\): 5 would be deleted, 0 would be skipped because busy \(\d+\.\d s\)\.$/,
      ),
    ]);
    expect(await statuses(database)).toEqual(before);
    expect(deleteRequests()).toBe(requestsBefore);
    expect(simulator.runners()).toHaveLength(6);
    expect(await query(database, `SELECT id FROM audit_events WHERE action = 'cleanup'`)).toEqual([]);
  });

  it('--hours defaults to STALE_RUNNER_HOURS, and --json prints the report', async () => {
    const byDefault = await cli(config, 'cleanup-stale-runners', '--dry-run', '--json');
    expect(byDefault).toMatchObject({ code: EXIT_OK, stderr: '' });
    const report = JSON.parse(byDefault.stdout) as CleanupReport;
    expect(report).toMatchObject({ dry_run: true, hours: 24, stale: 5, skipped_busy: [], failed: [] });
    expect(report.deleted.map((change) => change.runner_name)).toEqual(STALE);

    const longer = { ...config, runners: { ...config.runners, staleRunnerHours: 48 } };
    const none = await cli(longer, 'cleanup-stale-runners', '--dry-run');
    expect(none).toEqual({
      code: EXIT_OK,
      stdout: 'No runner was pending or offline for more than 48 hours.\n',
      stderr: '',
    });
  });

  it('removes stale runners from GitHub and marks them deleted; busy ones are skipped, and a failure exits 1', async () => {
    simulator.injectFault({ method: 'DELETE', path: `/orgs/${simulator.org}/actions/runners/${githubIdOf(simulator, 'stale-failing')}`, status: 500 });
    const result = await cli(config, 'cleanup-stale-runners', '--hours', '24');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toBe('Error: 1 runner could not be removed (see above); run the command again later\n');
    const table = parseTable(result.stdout);
    expect(table.rows.map((row) => [row[0], row[4]])).toEqual([
      ['stale-pending', 'deleted'],
      ['stale-offline', 'deleted'],
      ['stale-busy', 'skipped: busy'],
      ['stale-failing', 'failed'],
    ]);
    expect(table.rows[3][5]).toMatch(/^offline for 30 h: GITHUB_UNAVAILABLE: /);
    expect(table.after).toEqual([
      expect.stringMatching(
        /^5 stale runners \(pending or offline for more than 24 hours\): 2 deleted, 1 skipped because busy, 1 failed, 1 left as they were \(online on GitHub, or changed meanwhile\) \(\d+\.\d s\)\.$/,
      ),
    ]);
    expect(await statuses(database)).toEqual({
      'stale-pending': 'deleted',
      'stale-offline': 'deleted',
      'stale-busy': 'offline',
      'stale-failing': 'offline',
      'stale-back-online': 'active',
      'fresh-pending': 'pending',
    });
    expect(simulator.findRunnerByName('stale-pending')).toBeUndefined();
    expect(simulator.findRunnerByName('stale-offline')).toBeUndefined();
    expect(simulator.findRunnerByName('stale-failing')).toBeDefined();
  });

  it('--json after the failure passed: the rest is removed and the exit code is 0', async () => {
    const result = await cli(config, 'cleanup-stale-runners', '--hours', '24', '--json');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const report = JSON.parse(result.stdout) as CleanupReport;
    expect(report).toMatchObject({ dry_run: false, hours: 24, stale: 2, failed: [] });
    expect(report.deleted.map((change) => [change.runner_name, change.from, change.to])).toEqual([['stale-failing', 'offline', 'deleted']]);
    expect(report.skipped_busy.map((change) => change.runner_name)).toEqual(['stale-busy']);
    const audit = await query<{ actor: string; runner_name: string | null; outcome: string }>(
      database,
      `SELECT actor, runner_name, outcome FROM audit_events WHERE action = 'cleanup' AND runner_name IS NOT NULL ORDER BY occurred_at`,
    );
    expect(audit).toEqual([
      { actor: 'system:cli', runner_name: 'stale-pending', outcome: 'succeeded' },
      { actor: 'system:cli', runner_name: 'stale-offline', outcome: 'succeeded' },
      { actor: 'system:cli', runner_name: 'stale-failing', outcome: 'succeeded' },
    ]);
  });

  it.each([['abc'], ['0'], ['1.5'], ['-3']])('exits 2 on --hours %s, saying what to give', async (hours) => {
    const result = await cli(config, 'cleanup-stale-runners', '--hours', hours, '--dry-run');
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/option '--hours <hours>' argument .* is invalid\. Give a whole number of at least 1, e\.g\. --hours 24\./);
  });
});
