/**
 * kill -9 of the service while 20 clients provision JIT runners, a restart, and one sync: what the
 * clients were told, what the database says and what GitHub has must agree afterwards. The service
 * runs as its own process (`node dist/main.js`, as `npm start` does); GitHub (the simulator) and
 * the OIDC issuer live in this process and outlive it. On PGlite in a folder (the embedded choice,
 * DATABASE_URL=pglite://PATH) and, with TEST_DATABASE_URL, on PostgreSQL.
 *
 * Slow: the service starts twice as its own process and sync-github once, each a few seconds on
 * PGlite. The hour a sync waits for a runner whose config may have gone out just before the kill is
 * made to pass by moving the rows' creation back an hour.
 * Set CRASH_REPORT_FILE to append each run's numbers to that file as a JSON line.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../src/config/app-config.js';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { GithubSimulator, type SimulatedRunner } from '../src/github/simulator/github-simulator.js';
import type { SyncReport } from '../src/runners/reconciliation/reconciliation-report.js';
import { DEFAULT_JIT_START_TIMEOUT_MINUTES } from '../src/config/config.loader.js';
import { testDatabaseConfig } from './support/database.js';
import { TestOidcProvider } from './support/oidc.js';
import { dumpEveryTable, findSecrets, logHaystacks, type Haystack, secretsOf } from './support/secrets.js';
import { type CliRun, runCliProcess, type ServiceProcess, startServiceProcess } from './support/service-process.js';

const CLIENTS = 20;
/** The kill comes when this many clients have their 201: the others are at every stage of their request. */
const KILL_AFTER_CREATED = 5;
const CLIENT_SPACING_MS = 20;
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
/**
 * How long GitHub takes to answer the index-th generate-jitconfig, and whether it creates the runner
 * before that wait: half create the runner and answer together about 500 ms into the run (the
 * requests arrive CLIENT_SPACING_MS apart), so the kill meets several being completed and handed
 * out; the other half are still at GitHub then, which creates their runners after the kill.
 */
const generateFault = (index: number) =>
  index % 2 === 0 ? { delayMs: 500 - index * CLIENT_SPACING_MS, afterHandling: true } : { delayMs: 700 + index * CLIENT_SPACING_MS, afterHandling: false };
const LONGEST_GENERATE_DELAY_MS = 700 + CLIENTS * CLIENT_SPACING_MS;

type DatabaseKind = 'pglite' | 'postgres';
const KINDS: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];

interface JitAnswer {
  runner_id: string;
  runner_name: string;
  encoded_jit_config: string;
}

/** What one client asked for and what it got: a status and body, or the connection's failure. */
interface ClientOutcome {
  name: string;
  token: string;
  status?: number;
  body?: JitAnswer & { error?: { code: string } };
  failure?: string;
}

interface RunnerRow {
  id: string;
  name: string;
  status: string;
  github_runner_id: string | null;
}

interface AuditRow {
  action: string;
  outcome: string;
  runner_id: string | null;
  runner_name: string | null;
  details: Record<string, unknown>;
}

/** What the run left in the database: the runners, the audit trail, and every table for the secrets search. */
interface AfterSync {
  rows: RunnerRow[];
  events: AuditRow[];
  tables: Haystack[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A database that outlives the service process: a fresh PostgreSQL database, or PGlite in a new folder. */
async function freshDatabase(kind: DatabaseKind, workDir: string): Promise<{ url: string; config: DatabaseConfig; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dataDir = join(workDir, 'data');
    return { url: `pglite://${dataDir}`, config: { kind: 'pglite', dataDir }, drop: async () => undefined };
  }
  const database = await testDatabaseConfig();
  const config = database.config as Extract<DatabaseConfig, { kind: 'postgres' }>;
  return { url: config.url, config, drop: database.drop };
}

/** Runs `work` on the database through one short-lived connection (the service is stopped). */
async function withDatabase<T>(config: DatabaseConfig, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = new DataSource(buildDataSourceOptions(config));
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** Moves every runner's creation `ms` into the past, as if that much time had passed since. */
function ageRows(config: DatabaseConfig, ms: number): Promise<void> {
  return withDatabase(config, async (dataSource) => {
    await dataSource.query(`UPDATE runners SET created_at = created_at - make_interval(secs => $1)`, [ms / 1000]);
  });
}

/** Reads what the run left in the database. */
function readDatabase(config: DatabaseConfig): Promise<AfterSync> {
  return withDatabase(config, async (dataSource) => {
    const query = (sql: string) => dataSource.query(sql) as Promise<Record<string, unknown>[]>;
    return {
      rows: (await query('SELECT * FROM runners ORDER BY created_at')) as unknown as RunnerRow[],
      events: (await query('SELECT * FROM audit_events ORDER BY occurred_at, id')) as unknown as AuditRow[],
      tables: await dumpEveryTable(query),
    };
  });
}

const isClosing = (event: AuditRow) => event.action === 'provision_jit' && event.outcome !== 'attempted';

describe.each(KINDS)('kill -9 while %s serves 20 clients provisioning JIT runners, then a restart and one sync', (kind) => {
  let simulator: GithubSimulator;
  let oidc: TestOidcProvider;
  let workDir: string;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let env: Record<string, string>;
  const outcomes: ClientOutcome[] = [];
  let killed: ServiceProcess;
  let restarted: ServiceProcess;
  /** What GET /runners/{id} answered each 201 client on the restarted service, before the sync. */
  const afterRestart = new Map<string, number>();
  let sync: CliRun;
  let report: SyncReport;
  let githubBeforeSync: SimulatedRunner[];
  let after: AfterSync;
  /** Requests sent and not yet answered when the kill came. */
  let inFlightAtKill = 0;
  const created = () => outcomes.filter((outcome) => outcome.status === 201);

  beforeAll(async () => {
    [simulator, oidc] = await Promise.all([GithubSimulator.start(), TestOidcProvider.start()]);
    workDir = mkdtempSync(join(tmpdir(), 'rts-crash-'));
    database = await freshDatabase(kind, workDir);
    const keyPath = join(workDir, 'app-key.pem');
    writeFileSync(keyPath, simulator.privateKeyPem, { mode: 0o600 });
    env = {
      DATABASE_URL: database.url,
      GITHUB_API_URL: simulator.url,
      GITHUB_APP_ID: simulator.appId,
      GITHUB_APP_INSTALLATION_ID: String(simulator.installationId),
      GITHUB_APP_PRIVATE_KEY_PATH: keyPath,
      GITHUB_ORG: simulator.org,
      OIDC_ISSUER: oidc.issuer,
      OIDC_AUDIENCE: oidc.audience,
      OIDC_JWKS_URL: oidc.jwksUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      // Every line the service can write is searched for secrets.
      LOG_LEVEL: 'trace',
      LOG_FORMAT: 'json',
      SCHEDULER_ENABLED: 'false',
      SHUTDOWN_DRAIN_SECONDS: '0',
    };
    // PostgreSQL is prepared with init-db, as in production; PGlite migrates itself at start.
    if (kind === 'postgres') expect((await runCliProcess(['init-db'], env, workDir)).code).toBe(0);

    killed = await startServiceProcess(env, workDir);
    for (let index = 0; index < CLIENTS; index++) {
      simulator.injectFault({ method: 'POST', path: GENERATE_JIT, ...generateFault(index), times: 1 });
    }
    for (let index = 0; index < CLIENTS; index++) {
      outcomes.push({ name: `crash-${kind}-${index}`, token: await oidc.token({ sub: `client-${index}`, email: `client-${index}@example.com` }) });
    }
    let answered = 0;
    let started = 0;
    let ended = 0;
    await Promise.all(
      outcomes.map(async (outcome, index) => {
        await sleep(index * CLIENT_SPACING_MS);
        started++;
        try {
          const response = await fetch(`${killed.url}/api/v1/runners/jit`, {
            method: 'POST',
            headers: { authorization: `Bearer ${outcome.token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ runner_name: outcome.name, labels: ['crash'] }),
          });
          outcome.body = (await response.json()) as ClientOutcome['body'];
          outcome.status = response.status;
          if (response.status === 201 && ++answered === KILL_AFTER_CREATED) {
            killed.kill('SIGKILL');
            inFlightAtKill = started - ended - 1;
          }
        } catch (error) {
          outcome.failure = String((error as Error).cause ?? error);
        } finally {
          ended++;
        }
      }),
    );
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // GitHub finishes what it was asked before the kill, whether or not anyone hears the answer.
    await sleep(LONGEST_GENERATE_DELAY_MS + 500);
    githubBeforeSync = simulator.runners();

    restarted = await startServiceProcess(env, workDir);
    for (const outcome of created()) {
      const response = await fetch(`${restarted.url}/api/v1/runners/${outcome.body?.runner_id}`, {
        headers: { authorization: `Bearer ${outcome.token}` },
      });
      afterRestart.set(outcome.name, response.status);
    }
    restarted.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });

    // Each client that got its config starts its runner, which connects to GitHub.
    for (const outcome of created()) {
      const runner = simulator.findRunnerByName(outcome.name);
      if (runner) simulator.setRunnerStatus(runner.id, { status: 'online' });
    }
    // An hour passes. A sync leaves a request that may be under way alone (for REQUEST_DEADLINE_MS
    // and a margin), and a runner whose config may have gone out just before the kill for the hour
    // its config is valid: whoever got it starts it meanwhile. The rows are made that much older.
    await ageRows(database.config, DEFAULT_JIT_START_TIMEOUT_MINUTES * 60_000 + 60_000);
    sync = await runCliProcess(['sync-github', '--json'], env, workDir);
    expect(sync.code).toBe(0);
    report = JSON.parse(sync.stdout) as SyncReport;
    after = await readDatabase(database.config);

    if (process.env.CRASH_REPORT_FILE) {
      const line = {
        database: kind,
        clients: CLIENTS,
        in_flight_at_kill: inFlightAtKill,
        created: created().length,
        other_answers: outcomes.filter((outcome) => outcome.status !== undefined && outcome.status !== 201).map((outcome) => outcome.status),
        cut_off: outcomes.filter((outcome) => outcome.failure !== undefined).length,
        rows: after.rows.length,
        // Rows completed whose 201 never reached the client (the kill came between the two), and
        // clients with a 201 whose runner the sync removed (must stay 0).
        answered_but_removed: created().filter((outcome) => after.rows.some((row) => row.id === outcome.body?.runner_id && ['deleted', 'failed'].includes(row.status))).length,
        completed_unanswered: after.rows.filter(
          (row) =>
            !created().some((outcome) => outcome.body?.runner_id === row.id) &&
            after.events.some((event) => event.runner_id === row.id && isClosing(event) && event.outcome === 'succeeded'),
        ).length,
        github_before_sync: githubBeforeSync.length,
        github_after_sync: simulator.runners().length,
        sync: { ...report, changes: report.changes.map((change) => `${change.from}->${change.to}: ${change.reason}`) },
      };
      appendFileSync(process.env.CRASH_REPORT_FILE, `${JSON.stringify(line)}\n`);
    }
  }, 300_000);

  afterAll(async () => {
    killed?.kill('SIGKILL');
    restarted?.kill('SIGKILL');
    await Promise.all([simulator?.stop(), oidc?.stop()]);
    await database?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('was killed with requests at every stage: some answered 201, some cut off', () => {
    expect(created().length).toBeGreaterThanOrEqual(KILL_AFTER_CREATED);
    expect(outcomes.filter((outcome) => outcome.failure !== undefined).length).toBeGreaterThan(0);
  });

  it('started again on its data: each runner a client got a 201 for is there, before any sync', () => {
    expect([...afterRestart.values()]).toEqual(created().map(() => 200));
  });

  it('kept a runner row and the closing audit event for every 201 a client received', () => {
    for (const outcome of created()) {
      const row = after.rows.find((candidate) => candidate.id === outcome.body?.runner_id);
      expect(row).toMatchObject({ name: outcome.name, status: 'active' });
      const closing = after.events.filter((event) => event.runner_id === row?.id && isClosing(event));
      expect(closing.map((event) => event.outcome)).toEqual(['succeeded']);
    }
  });

  it('has a row for every runner on GitHub, and GitHub keeps exactly the runners whose config a client received', () => {
    // Before the sync: each runner GitHub made (also those it made after the kill) is a row's.
    expect(githubBeforeSync.length).toBeGreaterThan(created().length);
    for (const runner of githubBeforeSync) expect(after.rows.filter((row) => row.name === runner.name)).toHaveLength(1);
    const onGithub = simulator.runners();
    for (const runner of onGithub) {
      const row = after.rows.find((candidate) => Number(candidate.github_runner_id) === runner.id);
      expect(row).toMatchObject({ name: runner.name, status: 'active' });
    }
    expect(onGithub.map((runner) => runner.name).sort()).toEqual(created().map((outcome) => outcome.name).sort());
  });

  it('closed every attempt exactly once, and left live only runners whose config a client received', () => {
    const handedOut = new Set(created().map((outcome) => outcome.body?.runner_id));
    for (const row of after.rows) {
      const closing = after.events.filter((event) => event.runner_id === row.id && isClosing(event));
      expect({ name: row.name, closing: closing.length }).toEqual({ name: row.name, closing: 1 });
      if (!handedOut.has(row.id)) expect({ name: row.name, status: row.status }).toEqual({ name: row.name, status: expect.stringMatching(/^(failed|deleted)$/) });
    }
  });

  it('wrote no credential, App key or bearer token to any log line or table', () => {
    const secrets = secretsOf(
      simulator.issuedCredentials(),
      simulator.privateKeyPem,
      outcomes.map((outcome) => outcome.token),
    );
    expect(simulator.issuedCredentials().jitConfigs.length).toBeGreaterThan(KILL_AFTER_CREATED);
    const haystacks = [
      ...logHaystacks('killed service', killed.lines),
      ...logHaystacks('restarted service', restarted.lines),
      ...logHaystacks('sync-github', sync.lines),
      ...after.tables,
    ];
    expect(killed.lines.length).toBeGreaterThan(20);
    expect(findSecrets(haystacks, secrets)).toEqual([]);
  });
});
