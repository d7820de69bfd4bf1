/**
 * export-audit-log --format cloudevents --follow as a shipper runs it: a process of its own that
 * writes events as they are recorded, stops on SIGINT/SIGTERM, is killed, and resumes from its
 * --cursor-file. Events are recorded over a connection named as the service's are, so the export
 * sees their transactions as it would see the service's. Needs PostgreSQL: the embedded database
 * serves one process at a time.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { EXPORT_BATCH_SIZE, SETTLE_MARGIN_MS } from '../src/audit/audit.service.js';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_OK } from '../src/commands/run-cli.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { cli, sharedDatabase, type SharedDatabase } from './support/cli.js';
import { buildCli, type BuiltCli, CliProcess } from './support/cli-process.js';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;
/** Starting a process that transpiled TypeScript loads takes seconds on a busy machine; some tests start three. */
const PROCESS_TEST_TIMEOUT_MS = 240_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Line {
  id: string;
  type: string;
  data: { actor: string; details: { label?: string } };
}

/** The complete lines of `text` (a line still being written is left out), each a valid CloudEvent. */
function linesOf(text: string): Line[] {
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const parsed = JSON.parse(line) as Line;
      expect(new CloudEvent(parsed as unknown as Record<string, unknown>).validate()).toBe(true);
      return parsed;
    });
}

onPostgres('CLI export-audit-log --follow (e2e, as a process)', () => {
  let database: SharedDatabase;
  let config: AppConfig;
  /** A connection as the service makes them (application_name runner-token-service). */
  let dataSource: DataSource;
  let built: BuiltCli;
  let env: Record<string, string>;
  let folder: string;

  beforeAll(async () => {
    database = await sharedDatabase();
    config = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
    expect((await cli(config, 'init-db')).code).toBe(EXIT_OK);
    dataSource = await new DataSource(buildDataSourceOptions(database.config)).initialize();
    built = buildCli();
    env = { DATABASE_URL: database.url, GITHUB_ORG: 'acme' };
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    built?.remove();
    await database?.drop();
  });

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rts-follow-'));
  });

  /** One event of `actor` per label, each committed in its own transaction, in this order; their ids. */
  async function record(actor: string, ...labels: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const label of labels) {
      const [{ id }]: { id: string }[] = await dataSource.query(
        `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, details)
         VALUES ($1, 'system', $1, 'sync', 'succeeded', jsonb_build_object('label', $2::text)) RETURNING id`,
        [actor, label],
      );
      ids.push(id);
    }
    return ids;
  }

  const follow = (args: string[], withEnv = env) =>
    new CliProcess(built, ['export-audit-log', '--format', 'cloudevents', '--follow', '--interval', '0.2', ...args], withEnv);
  const storedId = (cursor: string): string | undefined =>
    existsSync(cursor) ? (JSON.parse(readFileSync(cursor, 'utf8')) as { id: string }).id : undefined;

  it(
    'writes the events there are, then each event as it is recorded, and stops on SIGTERM with exit 0, its status lines on stderr only',
    async () => {
      const actor = 'follow-stdout';
      const before = await record(actor, 'one', 'two');
      const run = follow(['--user', actor]);
      await run.waitFor('the two events recorded before it started', () => linesOf(run.stdout).length === 2);
      expect(run.stderr).toBe('Following audit events from the beginning of the trail, reading every 0.2 s; stop with Ctrl-C or SIGTERM\n');
      const after = await record(actor, 'three', 'four', 'five');
      await run.waitFor('the three recorded while it runs', () => linesOf(run.stdout).length === 5);
      run.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      const lines = linesOf(run.stdout);
      expect(lines.map((line) => line.id)).toEqual([...before, ...after]);
      expect(lines.map((line) => line.type)).toEqual(Array(5).fill('dev.runner-token-service.audit.sync.succeeded'));
      expect(run.stderr).toMatch(/\nStopped after 5 audit events\n$/);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'resumes after its cursor across SIGTERM, SIGKILL between two batches and SIGINT: every event once, in order',
    async () => {
      const actor = 'follow-restarts';
      const cursor = join(folder, 'audit.cursor');
      const output = join(folder, 'audit.ndjson');
      const args = ['--user', actor, '--cursor-file', cursor, '--output', output];
      const recorded: string[] = [];
      const caughtUp = (run: CliProcess) => run.waitFor('the cursor to name the last event', () => storedId(cursor) === recorded.at(-1));

      recorded.push(...(await record(actor, 'a1', 'a2', 'a3')));
      let run = follow(args);
      await caughtUp(run);
      run.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.stdout).toBe(`Appended 3 audit events to ${output}\n`);

      recorded.push(...(await record(actor, 'b1', 'b2', 'b3')));
      run = follow(args);
      await caughtUp(run);
      expect(run.stderr).toMatch(/^Following audit events after the position in .*audit\.cursor \(\d{4}-.*Z\)/);
      run.kill('SIGKILL');
      expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });

      recorded.push(...(await record(actor, 'c1', 'c2')));
      run = follow(args);
      await caughtUp(run);
      recorded.push(...(await record(actor, 'c3')));
      await caughtUp(run);
      run.kill('SIGINT');
      expect(await run.exited).toEqual({ code: 0, signal: null });

      expect(linesOf(readFileSync(output, 'utf8')).map((line) => line.id)).toEqual(recorded);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'after a SIGKILL at any moment of a long backlog, writes every event at least once, repeating at most one batch',
    async () => {
      const actor = 'follow-backlog';
      const cursor = join(folder, 'audit.cursor');
      const output = join(folder, 'audit.ndjson');
      const args = ['--user', actor, '--cursor-file', cursor, '--output', output];
      const total = 10 * EXPORT_BATCH_SIZE;
      const ids: string[] = (
        await dataSource.query(
          `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, details)
           SELECT $1, 'system', $1, 'sync', 'succeeded', jsonb_build_object('n', i) FROM generate_series(1, $2::int) AS i RETURNING id`,
          [actor, total],
        )
      ).map((row: { id: string }) => row.id);
      const last = [...ids].sort().at(-1);

      let run = follow(args);
      await run.waitFor('the first batch', () => existsSync(cursor));
      run.kill('SIGKILL');
      await run.exited;
      run = follow(args);
      await run.waitFor('the whole backlog', () => storedId(cursor) === last);
      run.kill('SIGTERM');
      expect(await run.exited).toEqual({ code: 0, signal: null });

      const rawLines = readFileSync(output, 'utf8').split('\n').slice(0, -1);
      // A line cut by the kill (if it landed in a write) stays, ended, on a line of its own.
      const parsed = rawLines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Line];
        } catch {
          return [];
        }
      });
      const cut = rawLines.length - parsed.length;
      const written = parsed.map((line) => line.id);
      const repeated = written.length - new Set(written).size;
      console.log(`SIGKILL during a backlog of ${total}: ${written.length} lines, ${repeated} repeated, ${cut} cut short`);
      expect(new Set(written)).toEqual(new Set(ids));
      expect(repeated).toBeLessThanOrEqual(EXPORT_BATCH_SIZE);
      expect(cut).toBeLessThanOrEqual(1);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'holds back an event while an older one is still uncommitted, and writes both, in order, once it commits',
    async () => {
      const actor = 'follow-late';
      const run = follow(['--user', actor]);
      await run.waitFor('it to start reading', () => run.stderr.startsWith('Following'));
      const open = dataSource.createQueryRunner();
      await open.startTransaction();
      try {
        // Its time is its transaction's start: older than the event recorded next, which commits first.
        const [{ id: late }]: { id: string }[] = await open.query(
          `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, details)
           VALUES ($1, 'system', $1, 'sync', 'succeeded', '{"label": "late"}') RETURNING id`,
          [actor],
        );
        const [early] = await record(actor, 'early');
        await sleep(SETTLE_MARGIN_MS + 500);
        // An export that keeps a cursor, run now, would store a position past the uncommitted event: it writes nothing yet.
        const cursor = join(folder, 'audit.cursor');
        const oneShot = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--user', actor, '--cursor-file', cursor);
        expect(oneShot).toMatchObject({ code: EXIT_OK, stdout: '' });
        expect(linesOf(run.stdout)).toEqual([]);

        await open.commitTransaction();
        await run.waitFor('both events', () => linesOf(run.stdout).length === 2);
        expect(linesOf(run.stdout).map((line) => line.id)).toEqual([late, early]);
        run.kill('SIGTERM');
        expect(await run.exited).toEqual({ code: 0, signal: null });
      } finally {
        if (open.isTransactionActive) await open.rollbackTransaction();
        await open.release();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'holds events back, saying why, while a session of the service belongs to a role whose transactions it cannot see',
    async () => {
      const actor = 'follow-unseen';
      const role = `rts_follow_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`CREATE ROLE "${role}" LOGIN`);
        await dataSource.query(`GRANT SELECT ON audit_events, migrations TO "${role}"`);
        const url = new URL(database.url);
        url.username = role;
        // This file's connection (the superuser's, named as the service's) is open: the role cannot see into it.
        const run = follow(['--user', actor], { ...env, DATABASE_URL: url.toString() });
        await run.waitFor('the hold to be reported', () => run.stderr.includes('Waiting: '));
        expect(run.stderr).toMatch(
          /Waiting: \d+ session\(s\) of this service belong to a role whose transactions this database role may not see, so newer events are held back until they close\. Run the export as a member of the service's role, or grant it pg_read_all_stats\n/,
        );
        const [held] = await record(actor, 'held');
        await dataSource.destroy();
        await run.waitFor('the held event once the session closed', () => linesOf(run.stdout).length === 1);
        expect(linesOf(run.stdout).map((line) => line.id)).toEqual([held]);
        expect(run.stderr).toMatch(/\nEvents are written again as they are recorded\n/);
        run.kill('SIGTERM');
        expect(await run.exited).toEqual({ code: 0, signal: null });
      } finally {
        if (!dataSource.isInitialized) dataSource = await new DataSource(buildDataSourceOptions(database.config)).initialize();
        await dataSource.query(`REVOKE ALL ON audit_events, migrations FROM "${role}"`).catch(() => undefined);
        await admin.query(`DROP ROLE IF EXISTS "${role}"`);
        await admin.end();
      }
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
