import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { cli, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';

/** The fields of an exported event, in order. */
const EXPORT_FIELDS = [
  'id',
  'occurred_at',
  'actor',
  'actor_issuer',
  'actor_subject',
  'action',
  'outcome',
  'runner_id',
  'runner_name',
  'request_id',
  'source_ip',
  'details',
];
/** Scheduler events seeded in bulk: more than two export batches (500), with equal times. */
const BULK_EVENTS = 1_200;

interface ExportedEvent {
  id: string;
  occurred_at: string;
  actor: string;
  actor_subject: string;
  action: string;
  outcome: string;
  runner_name: string | null;
  request_id: string | null;
  source_ip: string | null;
  details: Record<string, unknown>;
}

describe('CLI export-audit-log (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;
  /** Every event's id, newest first, as the database orders them. */
  let allIds: string[];
  let bulkIds: string[];

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    await seedThroughApp(database, simulator, async (t) => {
      // Real events, written by provisioning over HTTP.
      const alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
      const bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
      for (const [token, name] of [
        [alice, 'alice-a1'],
        [bob, 'bob-b1'],
      ]) {
        const response = await request(t.server)
          .post('/api/v1/runners/jit')
          .auth(token, { type: 'bearer' })
          .send({ runner_name: name, labels: ['audit'] });
        expect(response.status).toBe(201);
      }
      // Older events at chosen times, around the --since boundary of 2020-01-02.
      await t.dataSource.query(
        `INSERT INTO audit_events (occurred_at, actor, actor_issuer, actor_subject, action, outcome, runner_name, details)
         VALUES ('2020-01-01T23:59:59.999Z', 'carol@example.com', 'https://issuer.test', 'carol-sub', 'provision', 'succeeded', 'carol-1', '{}'),
                ('2020-01-02T00:00:00Z', 'carol@example.com', 'https://issuer.test', 'carol-sub', 'provision', 'denied', 'carol-2', '{"reason": "name taken"}'),
                ('2020-01-03T00:00:00Z', 'system:cli', 'system', 'cli', 'cleanup', 'succeeded', 'carol-1', '{}'),
                -- Not an action in use: shows that a prefix ends at "_" (provision does not match it).
                ('2020-01-04T00:00:00Z', 'carol@example.com', 'https://issuer.test', 'carol-sub', 'provisioned', 'succeeded', NULL, '{}')`,
      );
      // Three events per microsecond: ties on time, and times finer than a JS Date.
      await t.dataSource.query(
        `INSERT INTO audit_events (occurred_at, actor, actor_issuer, actor_subject, action, outcome, details)
         SELECT timestamptz '2020-06-01T00:00:00Z' + (i / 3) * interval '1 microsecond', 'system:scheduler', 'system',
                'scheduler', 'sync', 'succeeded', jsonb_build_object('n', i)
         FROM generate_series(1, $1::int) AS i`,
        [BULK_EVENTS],
      );
      const ordered = (where: string): Promise<{ id: string }[]> =>
        t.dataSource.query(`SELECT id FROM audit_events ${where} ORDER BY occurred_at DESC, id DESC`);
      allIds = (await ordered('')).map((row) => row.id);
      bulkIds = (await ordered(`WHERE action = 'sync'`)).map((row) => row.id);
    });
    // The export needs only the database: no GitHub or OIDC settings.
    config = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  async function exported(...args: string[]): Promise<ExportedEvent[]> {
    const result = await cli(config, 'export-audit-log', ...args);
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    return JSON.parse(result.stdout) as ExportedEvent[];
  }

  it('prints every event on stdout as one JSON array, newest first, with the documented fields', async () => {
    const result = await cli(config, 'export-audit-log');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const events = JSON.parse(result.stdout) as ExportedEvent[];
    // Laid out as JSON.stringify would, and nothing else on stdout.
    expect(result.stdout).toBe(`${JSON.stringify(events, null, 2)}\n`);
    expect(events.map((event) => event.id)).toEqual(allIds);
    for (const event of events) expect(Object.keys(event)).toEqual(EXPORT_FIELDS);

    const aliceSucceeded = events.find((event) => event.runner_name === 'alice-a1' && event.outcome === 'succeeded');
    expect(aliceSucceeded).toMatchObject({
      actor: 'alice@example.com',
      actor_subject: 'alice-sub',
      action: 'provision_jit',
      request_id: expect.any(String),
      source_ip: expect.any(String),
      details: expect.any(Object),
    });
    expect(aliceSucceeded?.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The JIT config itself never reaches the trail.
    expect(result.stdout).not.toMatch(/encoded_jit_config|jitconfig/i);
  });

  it('--since takes a date (midnight UTC) or a date-time with its zone, and keeps events at or after it', async () => {
    const names = (events: ExportedEvent[]) => events.filter((event) => event.actor === 'carol@example.com').map((event) => event.runner_name);

    const fromDate = await exported('--since', '2020-01-02');
    expect(names(fromDate)).toEqual([null, 'carol-2']);
    expect(fromDate.every((event) => event.occurred_at >= '2020-01-02T00:00:00.000Z')).toBe(true);

    const sameInstant = await exported('--since', '2020-01-02T01:00:00+01:00');
    expect(sameInstant.map((event) => event.id)).toEqual(fromDate.map((event) => event.id));

    const aMillisecondLater = await exported('--since', '2020-01-02T00:00:00.001Z');
    expect(names(aMillisecondLater)).toEqual([null]);

    const everything = await exported('--since', '2019-12-31');
    expect(everything).toHaveLength(allIds.length);
  });

  it('--event-type matches the action, or actions that start with it and "_"', async () => {
    const provision = await exported('--event-type', 'provision');
    expect(new Set(provision.map((event) => event.action))).toEqual(new Set(['provision', 'provision_jit']));
    expect(provision.filter((event) => event.action === 'provision')).toHaveLength(2);

    const jit = await exported('--event-type', 'provision_jit');
    expect(jit.length).toBeGreaterThanOrEqual(2);
    expect(jit.every((event) => event.action === 'provision_jit')).toBe(true);

    const cleanup = await exported('--event-type', 'CLEANUP');
    expect(cleanup.map((event) => event.action)).toEqual(['cleanup']);

    expect(await exported('--event-type', 'no_such_action')).toEqual([]);
  });

  it('--limit keeps the newest events', async () => {
    const three = await exported('--limit', '3');
    expect(three.map((event) => event.id)).toEqual(allIds.slice(0, 3));
    const provision = await exported('--event-type', 'provision', '--limit', '1');
    expect(provision).toHaveLength(1);
    expect(provision[0].action).toBe('provision_jit');
  });

  it("--user matches the actor's name or subject, and combines with the other filters", async () => {
    const byName = await exported('--user', 'alice@example.com');
    expect(byName.length).toBeGreaterThanOrEqual(2);
    expect(byName.every((event) => event.actor_subject === 'alice-sub')).toBe(true);
    const bySubject = await exported('--user', 'alice-sub');
    expect(bySubject.map((event) => event.id)).toEqual(byName.map((event) => event.id));

    const combined = await exported('--user', 'carol@example.com', '--event-type', 'provision', '--since', '2020-01-02');
    expect(combined.map((event) => [event.runner_name, event.outcome, event.details])).toEqual([
      ['carol-2', 'denied', { reason: 'name taken' }],
    ]);
  });

  it('reads a long trail in batches: every event once, in order, times finer than a millisecond included', async () => {
    const bulk = await exported('--event-type', 'sync');
    expect(bulk.map((event) => event.id)).toEqual(bulkIds);
    expect(new Set(bulk.map((event) => event.id)).size).toBe(BULK_EVENTS);
    const limited = await exported('--event-type', 'sync', '--limit', '501');
    expect(limited.map((event) => event.id)).toEqual(bulkIds.slice(0, 501));
  });

  describe('--output', () => {
    let folder: string;

    beforeEach(() => {
      folder = mkdtempSync(join(tmpdir(), 'rts-export-'));
    });

    it('writes the JSON array to the file and says how many events it holds', async () => {
      const file = join(folder, 'audit-report.json');
      const result = await cli(config, 'export-audit-log', '--since', '2020-01-02', '--output', file);
      expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
      const events = JSON.parse(readFileSync(file, 'utf8')) as ExportedEvent[];
      expect(result.stdout).toBe(`Exported ${events.length} audit events to ${file}\n`);
      expect(events.map((event) => event.id)).toEqual((await exported('--since', '2020-01-02')).map((event) => event.id));
      // Readable by its owner only; no temporary file left beside it.
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(folder)).toEqual(['audit-report.json']);
    });

    it('replaces an existing file whole, and with --json reports as JSON', async () => {
      const file = join(folder, 'alice-audit.json');
      writeFileSync(file, 'an older export that is much longer than the new one'.repeat(1000));
      const result = await cli(config, 'export-audit-log', '--user', 'alice@example.com', '--output', file, '--json');
      expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
      const events = JSON.parse(readFileSync(file, 'utf8')) as ExportedEvent[];
      expect(events.every((event) => event.actor === 'alice@example.com')).toBe(true);
      expect(JSON.parse(result.stdout)).toEqual({ exported: events.length, output: file });
      expect(readdirSync(folder)).toEqual(['alice-audit.json']);
    });

    it('writes an empty array when nothing matches', async () => {
      const file = join(folder, 'empty.json');
      const result = await cli(config, 'export-audit-log', '--user', 'nobody', '--output', file);
      expect(result).toMatchObject({ code: EXIT_OK, stdout: `Exported 0 audit events to ${file}\n` });
      expect(readFileSync(file, 'utf8')).toBe('[]\n');
    });

    it('exits 1 with the reason when the file cannot be written, and creates nothing', async () => {
      const file = join(folder, 'missing-folder', 'audit.json');
      const result = await cli(config, 'export-audit-log', '--output', file);
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`Error: Cannot write ${file}: the folder ${join(folder, 'missing-folder')} does not exist\n`);
      expect(readdirSync(folder)).toEqual([]);
    });
  });

  it.each([
    [['--since', 'not-a-date'], /option '--since <date>' argument 'not-a-date' is invalid/],
    [['--since', '2026-02-30'], /--since 2026-01-01, meaning midnight UTC/],
    [['--since', '2026-01-01T10:00'], /date-time with its zone/],
    [['--limit', '0'], /option '--limit <n>' argument '0' is invalid\. Give a whole number of at least 1/],
    [['--limit', 'ten'], /argument 'ten' is invalid/],
    [['--event-type', 'provision jit'], /Give an action such as provision/],
    [['--user', ' '], /Give the actor name or subject/],
  ])('exits 2 on bad usage %j, saying what to give', async (args, message) => {
    const result = await cli(config, 'export-audit-log', ...args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});
