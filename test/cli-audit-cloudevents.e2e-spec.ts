/**
 * export-audit-log --format cloudevents, one run at a time: the CloudEvents each line holds, the
 * filters, appending to --output, resuming with --cursor-file, and the usage it refuses. Following
 * (a process that runs on, signals, kills) is in cli-audit-follow.e2e-spec.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CloudEvent, HTTP } from 'cloudevents';
import request from 'supertest';
import { AuditService, SETTLE_MARGIN_MS } from '../src/audit/audit.service.js';
import { Actor } from '../src/auth/actor.js';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { cli, query, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';

const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
const TYPE_PREFIX = 'dev.runner-token-service.audit.';
/** Long enough for events just recorded to be before the horizon of an export that keeps a cursor. */
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MARGIN_MS + 500));
/** A runner id with no name in its event: its subject is the id. */
const NAMELESS_RUNNER_ID = '0b3c6a1e-5f0e-4d0a-9c55-7d1f0e2a4b61';

interface AuditData {
  id: string;
  occurred_at: string;
  actor: string;
  action: string;
  outcome: string;
  runner_id: string | null;
  runner_name: string | null;
  details: Record<string, unknown>;
}

/** Each line of `stdout` as a CloudEvent, read as a consumer of the structured JSON format reads it, and validated. */
function cloudEvents(stdout: string): CloudEvent<AuditData>[] {
  expect(stdout === '' || stdout.endsWith('\n')).toBe(true);
  return stdout
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const event = HTTP.toEvent<AuditData>({ headers: { 'content-type': 'application/cloudevents+json' }, body: line }) as CloudEvent<AuditData>;
      expect(event.validate()).toBe(true);
      return event;
    });
}

describe('CLI export-audit-log --format cloudevents (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;
  /** Every credential the service handed out while seeding. */
  const credentials: string[] = [];
  let folder: string;

  const ids = (where = ''): Promise<string[]> =>
    query<{ id: string }>(database, `SELECT id FROM audit_events ${where} ORDER BY occurred_at, id`).then((rows) => rows.map((row) => row.id));

  async function exported(...args: string[]): Promise<CloudEvent<AuditData>[]> {
    const result = await cli(config, 'export-audit-log', '--format', 'cloudevents', ...args);
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    return cloudEvents(result.stdout);
  }

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    await seedThroughApp(database, simulator, async (t) => {
      const alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
      const bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
      const post = (token: string, path: string, body: object) => request(t.server).post(path).auth(token, { type: 'bearer' }).send(body);
      // attempted and succeeded, with a JIT config and a registration token handed out.
      const jit = await post(alice, '/api/v1/runners/jit', { runner_name: 'alice-ce', labels: ['siem'] }).expect(201);
      credentials.push(jit.body.encoded_jit_config);
      const token = await post(bob, '/api/v1/runners/provision', { runner_name: 'bob-ce', labels: ['siem'], ephemeral: true }).expect(201);
      credentials.push(token.body.registration_token);
      // denied: a runner group the service does not hand out.
      await post(alice, '/api/v1/runners/jit', { runner_name: 'wrong-group', labels: ['siem'], runner_group_id: 7 }).expect(400);
      // failed: GitHub answers 500.
      simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 500, times: 1 });
      await post(alice, '/api/v1/runners/jit', { runner_name: 'github-broke', labels: ['siem'] }).expect(502);
      // The webhook's runner_hijack, and an action this export has never heard of, through the audit trail's own writer.
      const audit = t.app.get(AuditService);
      await audit.recordAlone(Actor.system('github-webhook'), {
        action: 'runner_hijack',
        outcome: 'denied',
        runnerId: jit.body.runner_id,
        runnerName: 'alice-ce',
        details: { bound_run: { run_id: 1, run_attempt: 1 }, job: { run_id: 2 } },
      });
      await audit.recordAlone(Actor.system('scheduler'), { action: 'foreign_runner', outcome: 'succeeded', details: { github_runner_id: 4242 } });
      await t.dataSource.query(
        `INSERT INTO audit_events (occurred_at, actor, actor_issuer, actor_subject, action, outcome, runner_id, runner_name, details)
         VALUES ('2020-01-01T12:00:00Z', 'carol@example.com', 'https://issuer.test', 'carol-sub', 'provision', 'succeeded', NULL, 'carol-1', '{}'),
                ('2020-01-02T00:00:00Z', 'carol@example.com', 'https://issuer.test', 'carol-sub', 'delete', 'succeeded', $1, NULL, '{"note": "line one\\nline two"}'),
                ('2020-01-03T00:00:00Z', 'system:cli', 'system', 'cli', 'cleanup', 'succeeded', NULL, NULL, '{}')`,
        [NAMELESS_RUNNER_ID],
      );
    });
    config = loadConfig({ DATABASE_URL: database.url, GITHUB_ORG: 'acme' }, { scope: 'database' });
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rts-cloudevents-'));
  });

  it('writes every event as one CloudEvents 1.0 JSON object a line, oldest first, its data the JSON export of the event', async () => {
    const result = await cli(config, 'export-audit-log', '--format', 'cloudevents');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const events = cloudEvents(result.stdout);
    expect(events.map((event) => event.id)).toEqual(await ids());

    const json = await cli(config, 'export-audit-log');
    const byId = new Map((JSON.parse(json.stdout) as AuditData[]).map((event) => [event.id, event]));
    for (const event of events) {
      const data = byId.get(event.id) as AuditData;
      expect(event.data).toEqual(data);
      expect(event).toMatchObject({
        specversion: '1.0',
        source: 'urn:runner-token-service:acme',
        type: `${TYPE_PREFIX}${data.action}.${data.outcome}`,
        time: data.occurred_at,
        datacontenttype: 'application/json',
      });
    }
    const succeeded = events.find((event) => event.data?.runner_name === 'alice-ce' && event.data.outcome === 'succeeded');
    expect(JSON.parse(result.stdout.split('\n').find((line) => line.includes(succeeded?.id as string)) as string)).toEqual({
      specversion: '1.0',
      id: succeeded?.id,
      source: 'urn:runner-token-service:acme',
      type: 'dev.runner-token-service.audit.provision_jit.succeeded',
      time: succeeded?.data?.occurred_at,
      subject: 'alice-ce',
      datacontenttype: 'application/json',
      data: byId.get(succeeded?.id as string),
    });
    // A newline inside a value stays inside its line.
    expect(events.find((event) => event.data?.action === 'delete')?.data?.details).toEqual({ note: 'line one\nline two' });
  });

  it('exports every action and outcome under its own type, new actions included, each with its runner as subject', async () => {
    const events = await exported();
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(
        [
          'provision_jit.attempted',
          'provision_jit.succeeded',
          'provision_jit.denied',
          'provision_jit.failed',
          'provision.attempted',
          'provision.succeeded',
          'runner_hijack.denied',
          'foreign_runner.succeeded',
          'delete.succeeded',
          'cleanup.succeeded',
        ].map((type) => `${TYPE_PREFIX}${type}`),
      ),
    );
    const subjectOf = (action: string) => events.filter((event) => event.data?.action === action).map((event) => event.subject);
    expect(subjectOf('runner_hijack')).toEqual(['alice-ce']);
    expect(subjectOf('delete')).toEqual([NAMELESS_RUNNER_ID]);
    expect(subjectOf('foreign_runner')).toEqual([undefined]);
    expect(subjectOf('cleanup')).toEqual([undefined]);
  });

  it('never holds a credential: the JIT config and the registration token handed out are nowhere in it', async () => {
    const result = await cli(config, 'export-audit-log', '--format', 'cloudevents');
    expect(credentials).toHaveLength(2);
    for (const credential of credentials) {
      expect(credential.length).toBeGreaterThan(10);
      expect(result.stdout.includes(credential)).toBe(false);
    }
    expect(result.stdout).not.toMatch(/encoded_jit_config|registration_token"/);
    // What the trail keeps instead: the fingerprints.
    expect(result.stdout).toMatch(/sha256:[0-9a-f]{64}/);
  });

  it("matches the README's example line: the same attributes, in the same order, and data with the export's fields", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Shipping the audit trail to a SIEM'));
    const example = JSON.parse(/```json\n(.*)\n```/.exec(section)?.[1] ?? 'null') as Record<string, unknown>;
    const [line] = (await cli(config, 'export-audit-log', '--format', 'cloudevents', '--event-type', 'provision_jit')).stdout.split('\n');
    const written = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(example)).toEqual(Object.keys(written));
    expect(Object.keys(example.data as object)).toEqual(Object.keys(written.data as object));
    expect(example.type).toMatch(/^dev\.runner-token-service\.audit\.provision_jit\.succeeded$/);
  });

  it('takes its source from AUDIT_EVENT_SOURCE when it is set', async () => {
    const withSource = loadConfig({ DATABASE_URL: database.url, GITHUB_ORG: 'acme', AUDIT_EVENT_SOURCE: 'https://rts.example.com/eu' }, { scope: 'database' });
    const result = await cli(withSource, 'export-audit-log', '--format', 'cloudevents', '--event-type', 'cleanup');
    expect(cloudEvents(result.stdout).map((event) => event.source)).toEqual(['https://rts.example.com/eu']);
  });

  it('applies --since, --until (before it), --event-type and --user, in both formats', async () => {
    const names = (events: CloudEvent<AuditData>[]) => events.map((event) => `${event.data?.action}:${event.data?.outcome}`);
    expect(names(await exported('--since', '2020-01-01', '--until', '2020-01-03'))).toEqual(['provision:succeeded', 'delete:succeeded']);
    expect(names(await exported('--until', '2020-01-02T00:00:00.001Z', '--user', 'carol-sub'))).toEqual(['provision:succeeded', 'delete:succeeded']);
    expect(names(await exported('--event-type', 'provision', '--user', 'bob@example.com'))).toEqual(['provision:attempted', 'provision:succeeded']);
    const json = await cli(config, 'export-audit-log', '--until', '2020-01-03');
    expect((JSON.parse(json.stdout) as AuditData[]).map((event) => event.action)).toEqual(['delete', 'provision']);
  });

  describe('--output', () => {
    it('appends to the file, ending a line cut short first, and says how many it appended', async () => {
      const file = join(folder, 'audit.ndjson');
      writeFileSync(file, '{"id": "cut short by a kill');
      const first = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--event-type', 'cleanup', '--output', file);
      expect(first).toEqual({ code: EXIT_OK, stdout: `Appended 1 audit event to ${file}\n`, stderr: '' });
      const second = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--user', 'carol-sub', '--output', file, '--json');
      expect(second).toMatchObject({ code: EXIT_OK, stderr: '' });
      expect(JSON.parse(second.stdout)).toEqual({ exported: 2, output: file });
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines[0]).toBe('{"id": "cut short by a kill');
      expect(cloudEvents(lines.slice(1).join('\n')).map((event) => event.data?.action)).toEqual(['cleanup', 'provision', 'delete']);
    });

    it('creates the file readable by its owner only', async () => {
      const file = join(folder, 'new.ndjson');
      const result = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--event-type', 'delete', '--output', file);
      expect(result).toMatchObject({ code: EXIT_OK, stdout: `Appended 1 audit event to ${file}\n` });
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });
  });

  describe('--cursor-file', () => {
    it('starts at --since without a cursor, then resumes strictly after the last event written: each event once', async () => {
      const cursor = join(folder, 'audit.cursor');
      const run = () => exported('--since', '2020-01-02', '--cursor-file', cursor);
      await settle();
      const first = await run();
      const expected = await ids(`WHERE occurred_at >= '2020-01-02'`);
      expect(first.map((event) => event.id)).toEqual(expected);
      const stored = JSON.parse(readFileSync(cursor, 'utf8')) as { occurred_at: string; id: string };
      expect(stored).toEqual({ occurred_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/), id: expected[expected.length - 1] });
      expect(statSync(cursor).mode & 0o777).toBe(0o600);

      expect(await run()).toEqual([]);

      // Two events in one transaction share their time to the microsecond: the id orders them.
      await query(
        database,
        `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, details)
         VALUES ('system:scheduler', 'system', 'scheduler', 'sync', 'succeeded', '{"n": 1}'), ('system:scheduler', 'system', 'scheduler', 'sync', 'succeeded', '{"n": 2}')`,
      );
      // A cursor's export stops a second short of the database's clock (a transaction just begun may still commit older events).
      await settle();
      const third = await run();
      expect(third.map((event) => event.data?.details)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
      const all = [...first, ...third].map((event) => event.id);
      expect(all).toEqual(await ids(`WHERE occurred_at >= '2020-01-02'`));
      expect(new Set(all).size).toBe(all.length);
    });

    it.each([
      ['not JSON', 'garbage\u0000\u0001'],
      ['empty', ''],
      ['an array', '[]'],
      ['a time without microseconds', `{"occurred_at": "2026-01-01T00:00:00Z", "id": "${NAMELESS_RUNNER_ID}"}`],
      ['an impossible date', `{"occurred_at": "2026-02-30T00:00:00.000000Z", "id": "${NAMELESS_RUNNER_ID}"}`],
      ['an id that is not a uuid', `{"occurred_at": "2026-01-01T00:00:00.000000Z", "id": "1 OR 1=1"}`],
      ['far too long', `{"occurred_at": "2026-01-01T00:00:00.000000Z", "id": "${NAMELESS_RUNNER_ID}", "pad": "${'x'.repeat(5000)}"}`],
    ])('exits 1 naming a cursor file that holds %s, and writes nothing', async (_what, content) => {
      const cursor = join(folder, 'bad.cursor');
      writeFileSync(cursor, content);
      const result = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--cursor-file', cursor);
      expect(result).toMatchObject({ code: EXIT_FAILURE, stdout: '' });
      expect(result.stderr).toBe(
        `Error: The cursor file ${cursor} does not hold a position written by export-audit-log ` +
          '({"occurred_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "id": "<uuid>"}): restore it, or remove it to start from --since (or the beginning)\n',
      );
      expect(readFileSync(cursor, 'utf8')).toBe(content);
    });

    it('exits 1 on a cursor after the database\'s clock, which would wait forever, and writes nothing', async () => {
      const cursor = join(folder, 'future.cursor');
      writeFileSync(cursor, JSON.stringify({ occurred_at: '2999-01-01T00:00:00.000000Z', id: NAMELESS_RUNNER_ID }));
      const result = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--cursor-file', cursor);
      expect(result).toMatchObject({ code: EXIT_FAILURE, stdout: '' });
      expect(result.stderr).toMatch(`Error: The cursor file ${cursor} holds a position after the database's current time (2999-01-01T00:00:00.000000Z)`);
    });

    it('exits 1 before writing anything when the cursor cannot be stored', async () => {
      const inMissingFolder = join(folder, 'missing', 'audit.cursor');
      const missing = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--cursor-file', inMissingFolder);
      expect(missing).toEqual({ code: EXIT_FAILURE, stdout: '', stderr: `Error: Cannot write ${inMissingFolder}: the folder ${join(folder, 'missing')} does not exist\n` });
      const aFolder = join(folder, 'a-folder');
      mkdirSync(aFolder);
      const isFolder = await cli(config, 'export-audit-log', '--format', 'cloudevents', '--cursor-file', aFolder);
      expect(isFolder).toEqual({ code: EXIT_FAILURE, stdout: '', stderr: `Error: Cannot use the cursor file ${aFolder}: it is a folder\n` });
    });
  });

  it.each([
    [['--format', 'xml'], /option '--format <format>' argument 'xml' is invalid\. Choose one of: json, cloudevents/],
    [['--format', 'CloudEvents'], /Choose one of: json, cloudevents/],
    [['--follow'], /--follow, --cursor-file and --interval write one event a line: use them with --format cloudevents/],
    [['--format', 'json', '--cursor-file', 'x.cursor'], /use them with --format cloudevents/],
    [['--format', 'cloudevents', '--follow', '--interval', '0'], /argument '0' is invalid\. Give a number of seconds from 0\.1 to 3600/],
    [['--format', 'cloudevents', '--follow', '--interval', '-1'], /argument '-1' is invalid\. Give a number of seconds/],
    [['--format', 'cloudevents', '--follow', '--interval', '0.05'], /Give a number of seconds from 0\.1/],
    [['--format', 'cloudevents', '--follow', '--interval', '1e3'], /Give a number of seconds/],
    [['--format', 'cloudevents', '--follow', '--interval', 'soon'], /Give a number of seconds/],
    [['--format', 'cloudevents', '--interval', '1'], /--interval sets how often --follow reads: add --follow/],
    [['--format', 'cloudevents', '--follow', '--until', '2026-01-01'], /--follow keeps writing events as they are recorded, and --until ends the export at a date: give one of them/],
    [['--format', 'cloudevents', '--limit', '5'], /--limit keeps the newest events of a JSON export/],
    [['--format', 'cloudevents', '--output', 'same.ndjson', '--cursor-file', './same.ndjson'], /--output and --cursor-file must name two different files/],
    [['--until', 'tomorrow'], /option '--until <date>' argument 'tomorrow' is invalid/],
  ])('exits 2 on bad usage %j, saying what to give, and writes nothing', async (args, message) => {
    const result = await cli(config, 'export-audit-log', ...args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

});
