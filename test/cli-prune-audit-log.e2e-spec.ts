import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { cli, query, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';

interface EventRow {
  runner_name: string | null;
  action: string;
  actor: string;
  outcome: string;
  details: Record<string, unknown>;
}

describe('CLI prune-audit-log (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;

  const events = (): Promise<EventRow[]> =>
    query<EventRow>(database, `SELECT runner_name, action, actor, outcome, details FROM audit_events ORDER BY occurred_at, runner_name`);
  const oldNames = async (): Promise<(string | null)[]> =>
    (await events()).filter((event) => event.action === 'provision').map((event) => event.runner_name);

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    await seedThroughApp(database, simulator, async (t) => {
      // Around the cut-off of 2020-06-01: the event at the cut-off itself is kept.
      await t.dataSource.query(
        `INSERT INTO audit_events (occurred_at, actor, actor_issuer, actor_subject, action, outcome, runner_name, details)
         VALUES ('2020-01-01T00:00:00Z', 'alice@example.com', 'https://issuer.test', 'alice-sub', 'provision', 'succeeded', 'jan', '{}'),
                ('2020-05-31T23:59:59.999Z', 'alice@example.com', 'https://issuer.test', 'alice-sub', 'provision', 'succeeded', 'may', '{}'),
                ('2020-06-01T00:00:00Z', 'bob@example.com', 'https://issuer.test', 'bob-sub', 'provision', 'succeeded', 'june', '{}'),
                ('2021-01-01T00:00:00Z', 'bob@example.com', 'https://issuer.test', 'bob-sub', 'provision', 'succeeded', 'next-year', '{}')`,
      );
    });
    config = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('--dry-run says how many events it would remove and changes nothing', async () => {
    const before = await events();
    const result = await cli(config, 'prune-audit-log', '--before', '2020-06-01', '--dry-run');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(result.stdout).toBe('Dry run, nothing changed. 2 audit events before 2020-06-01T00:00:00.000Z would be removed.\n');

    const json = await cli(config, 'prune-audit-log', '--before', '2020-06-01T02:00:00+02:00', '--dry-run', '--json');
    expect(json).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual({ before: '2020-06-01T00:00:00.000Z', dry_run: true, removed: 2 });
    expect(await events()).toEqual(before);
  });

  it('removes exactly the events before the cut-off, says how many, and audits the prune after it', async () => {
    const result = await cli(config, 'prune-audit-log', '--before', '2020-06-01');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(result.stdout).toBe('Removed 2 audit events before 2020-06-01T00:00:00.000Z.\n');
    expect(await oldNames()).toEqual(['june', 'next-year']);
    const prunes = (await events()).filter((event) => event.action === 'prune_audit_log');
    expect(prunes).toEqual([
      {
        runner_name: null,
        action: 'prune_audit_log',
        actor: 'system:cli',
        outcome: 'succeeded',
        details: { before: '2020-06-01T00:00:00.000Z', removed: 2 },
      },
    ]);
  });

  it('--json prints the cut-off and the count; nothing left to remove is 0, and still audited', async () => {
    const result = await cli(config, 'prune-audit-log', '--before', '2020-06-01', '--json');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ before: '2020-06-01T00:00:00.000Z', dry_run: false, removed: 0 });

    const next = await cli(config, 'prune-audit-log', '--before', '2021-01-01T00:00:00.001Z', '--json');
    expect(JSON.parse(next.stdout)).toEqual({ before: '2021-01-01T00:00:00.001Z', dry_run: false, removed: 2 });
    expect(await oldNames()).toEqual([]);
    // The events of earlier prunes are newer than the cut-off: they survive.
    const prunes = (await events()).filter((event) => event.action === 'prune_audit_log').map((event) => event.details);
    expect(prunes).toEqual([
      { before: '2020-06-01T00:00:00.000Z', removed: 2 },
      { before: '2020-06-01T00:00:00.000Z', removed: 0 },
      { before: '2021-01-01T00:00:00.001Z', removed: 2 },
    ]);
  });

  it.each([
    [[], /required option '--before <date>' not specified/],
    [['--before', 'not-a-date'], /option '--before <date>' argument 'not-a-date' is invalid\. Give a date \(--before 2026-01-01/],
    [['--before', '2026-01-01T10:00'], /date-time with its zone/],
    [['--before', '2999-01-01'], /argument '2999-01-01' is invalid\. The cut-off must not be in the future/],
  ])('exits 2 on bad usage %j, saying what to give, and removes nothing', async (args, message) => {
    const before = await events();
    const result = await cli(config, 'prune-audit-log', ...args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(await events()).toEqual(before);
  });

  // A login role of its own needs a real server: PGlite has one built-in user.
  const onPostgres = process.env.TEST_DATABASE_URL ? it : it.skip;
  onPostgres('exits 1 under a role that may append to the trail but was not granted the prune, and removes nothing', async () => {
    const role = `rts_test_service_${randomBytes(4).toString('hex')}`;
    await query(database, `CREATE ROLE ${role} LOGIN`);
    try {
      await query(database, `GRANT SELECT, INSERT ON audit_events TO ${role}`);
      await query(database, `GRANT SELECT ON migrations TO ${role}`);
      const url = new URL(database.url);
      url.username = role;
      const asService = loadConfig({ DATABASE_URL: url.toString() }, { scope: 'database' });
      const before = await events();
      const result = await cli(asService, 'prune-audit-log', '--before', '2021-01-01');
      expect(result).toMatchObject({ code: EXIT_FAILURE, stdout: '', stderr: 'Error: permission denied for function prune_audit_events\n' });
      expect(await events()).toEqual(before);
    } finally {
      await query(database, `DROP OWNED BY ${role}`);
      await query(database, `DROP ROLE ${role}`);
    }
  });

  it('exits 2 on a date-time later today or tomorrow, and removes nothing', async () => {
    const before = await events();
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString();
    const result = await cli(config, 'prune-audit-log', '--before', tomorrow, '--json');
    expect(result).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(result.stderr).toMatch(/The cut-off must not be in the future/);
    expect(await events()).toEqual(before);
  });
});
