/**
 * PostgreSQL out of reach. A TCP proxy of the test's own stands between the service and the shared
 * server and is cut (the server itself is never touched): requests are answered 503
 * DATABASE_UNAVAILABLE with Retry-After (no hang: the test's own timeout catches one), /health
 * fails, and the service recovers by itself once the proxy forwards again. On PostgreSQL only: the
 * embedded database has no connection to cut. The time each answer took is printed for the
 * reliability notes, not asserted.
 */
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { DatabaseOutage } from '../src/database/database-outage.service.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';
import { type OutageKind, TcpProxy } from './support/tcp-proxy.js';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

const RUNNERS_PATH = '/api/v1/runners';
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
/** Concurrent requests sent during each outage. */
const REQUESTS_PER_OUTAGE = 5;
/** Longer than the suspensions snapshot may be old (2 s): the next request must read them again. */
const SNAPSHOT_EXPIRY_MS = 2_500;
/** pino's levels. */
const WARN = 40;
const ERROR = 50;

/** Polls until `check` holds (bounded: about 20 s), for what happens after the database is back. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await Promise.resolve(check()).catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** The answer and how long it took, printed for the reliability notes (not asserted). */
async function timed(label: string, send: () => request.Test): Promise<request.Response> {
  const started = Date.now();
  const response = await send();
  console.log(`${label}: ${response.status} in ${Date.now() - started} ms`);
  return response;
}

interface LogLine {
  level: number;
  msg: string;
  request_id?: string;
  err?: { stack?: string };
  context?: string;
}

onPostgres('Database outage (e2e)', () => {
  let database: TestDatabase;
  /** The test database's URL on the shared server. */
  let databaseUrl: string;
  let proxy: TcpProxy;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    database = await testDatabaseConfig();
    if (database.config.kind !== 'postgres') throw new Error('This file needs PostgreSQL');
    databaseUrl = database.config.url;
    const server = new URL(databaseUrl);
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    t = await startTestApp({ database: { kind: 'postgres', url: proxy.proxiedUrl(databaseUrl) } });
    token = await t.oidc.token({ sub: 'outage-sub', email: 'outage@example.com' });
  });

  afterEach(async () => {
    t.simulator.clearFaults();
    await proxy.restore();
    // Each test starts with the service back to normal: the outage it saw is over.
    expect(await eventually(() => t.app.get(DatabaseOutage).unavailableSince === null)).toBe(true);
  });

  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await database?.drop();
  });

  const listRunners = (bearer = token) => request(t.server).get(RUNNERS_PATH).auth(bearer, { type: 'bearer' });
  const logsSince = (from: number): LogLine[] => t.logs.slice(from).map((line) => JSON.parse(line) as LogLine);

  describe.each<OutageKind>(['refuse', 'hang', 'stall'])('when the database connection is cut (%s)', (kind) => {
    it('answers 503 DATABASE_UNAVAILABLE with Retry-After, fails readiness, logs the outage once, and recovers without a restart', async () => {
      await listRunners().expect(200);
      const from = t.logs.length;
      await proxy.cut(kind);

      const answers = await Promise.all(
        Array.from({ length: REQUESTS_PER_OUTAGE }, (_, i) => timed(`${kind}: GET /runners #${i + 1}`, () => listRunners())),
      );
      for (const response of answers) {
        expect(response.status).toBe(503);
        expect(response.body.error.code).toBe('DATABASE_UNAVAILABLE');
        expect(response.headers['retry-after']).toBe('5');
        expect(JSON.stringify(response.body)).not.toMatch(/ECONN|timeout|terminated|127\.0\.0\.1|postgres/i);
      }
      const health = await timed(`${kind}: GET /health`, () => request(t.server).get('/health'));
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down', reason: 'unreachable' } } });
      expect(JSON.stringify(health.body)).not.toMatch(/ECONN|127\.0\.0\.1|:\d{4,5}\b/);

      // One warning for the outage, naming the first refused request; no error line, no stack.
      const during = logsSince(from);
      const warnings = during.filter((line) => line.level === WARN && line.msg.startsWith('Database unavailable'));
      expect(warnings).toHaveLength(1);
      expect(answers.map((response) => response.body.request_id)).toContain(warnings[0].request_id);
      expect(during.filter((line) => line.level >= ERROR)).toEqual([]);
      expect(during.filter((line) => line.err?.stack !== undefined)).toEqual([]);

      await proxy.restore();
      expect(await eventually(async () => (await request(t.server).get('/health')).status === 200)).toBe(true);
      await listRunners().expect(200);
      expect(await eventually(() => t.logs.some((line) => line.includes('Database available again')))).toBe(true);
    });
  });

  it('removes the runner GitHub created when the database goes while GitHub answers, hands out no secret, and closes the attempt once it is back', async () => {
    const name = 'outage-during-github';
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 1_500, afterHandling: true, times: 1 });
    const answer = timed('hang during generate-jitconfig: POST /runners/jit', () =>
      request(t.server).post(`${RUNNERS_PATH}/jit`).auth(token, { type: 'bearer' }).send({ runner_name: name }),
    );
    // GitHub has created the runner and is still answering: the database goes now.
    expect(await eventually(() => t.simulator.findRunnerByName(name) !== undefined)).toBe(true);
    await proxy.cut('hang');

    const response = await answer;
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('DATABASE_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toMatch(/jit_config|run_command/);
    expect(t.simulator.findRunnerByName(name)).toBeUndefined();

    await proxy.restore();
    const closed = await eventually(async () => {
      const rows: { status: string }[] = await t.dataSource.query(`SELECT status FROM runners WHERE name = $1`, [name]);
      return rows.length === 1 && rows[0].status === 'failed';
    });
    expect(closed).toBe(true);
    const events: { outcome: string; details: Record<string, unknown> }[] = await t.dataSource.query(
      `SELECT outcome, details FROM audit_events WHERE runner_name = $1 AND action = 'provision_jit' ORDER BY occurred_at`,
      [name],
    );
    expect(events.map((event) => event.outcome)).toEqual(['attempted', 'failed']);
    expect(events[1].details).toMatchObject({ error_code: 'DATABASE_UNAVAILABLE', removed_from_github: true, ended_at: expect.any(String) });
  });

  it('still answers a bad token 401 (its audit sample is lost), and never lets a suspended caller through', async () => {
    const suspended = await t.oidc.token({ sub: 'suspended-sub' });
    await t.dataSource.query(`INSERT INTO suspensions (issuer, subject, created_by) VALUES ($1, 'suspended-sub', 'test')`, [t.oidc.issuer]);
    await listRunners(suspended).expect(403);
    await proxy.cut('hang');

    const badToken = await timed('hang: GET /runners with a bad token', () => listRunners('not-a-jwt'));
    expect(badToken.status).toBe(401);
    // The suspensions snapshot has expired and cannot be read again: refused, not let through.
    await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_EXPIRY_MS));
    const refused = await timed('hang: GET /runners as a suspended caller', () => listRunners(suspended));
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('DATABASE_UNAVAILABLE');
  });

  // Last: the second instance takes over the process's logger.
  it('leaves the row to the next sync when the process stops before the database is back, which closes it with its event', async () => {
    const name = 'outage-then-restart';
    const doomedProxy = await TcpProxy.start({ host: '127.0.0.1', port: proxy.port });
    const doomed = await startTestApp({
      database: { kind: 'postgres', url: doomedProxy.proxiedUrl(databaseUrl) },
      simulator: t.simulator,
    });
    try {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 1_500, afterHandling: true, times: 1 });
      const caller = await doomed.oidc.token({ sub: 'restart-sub' });
      const answer = timed('refuse during generate-jitconfig, then a stop: POST /runners/jit', () =>
        request(doomed.server).post(`${RUNNERS_PATH}/jit`).auth(caller, { type: 'bearer' }).send({ runner_name: name }),
      );
      expect(await eventually(() => t.simulator.findRunnerByName(name) !== undefined)).toBe(true);
      await doomedProxy.cut('refuse');
      expect((await answer).status).toBe(503);
    } finally {
      // Stops with the closing write still kept: it is lost with the process.
      await doomed.close();
      await doomedProxy.stop();
    }
    expect(t.simulator.findRunnerByName(name)).toBeUndefined();
    const [row]: { status: string }[] = await t.dataSource.query(`SELECT status FROM runners WHERE name = $1`, [name]);
    expect(row.status).toBe('pending');

    // A minute later (the time a request may still be under way), the next sync closes it.
    await t.dataSource.query(`UPDATE runners SET created_at = created_at - interval '2 minutes' WHERE name = $1`, [name]);
    const report = await t.app.get(GithubSyncService).syncWithGithub(Actor.system('test'));
    expect(report.abandoned).toBe(1);
    const events: { outcome: string; details: Record<string, unknown> }[] = await t.dataSource.query(
      `SELECT outcome, details FROM audit_events WHERE runner_name = $1 AND action = 'provision_jit' ORDER BY occurred_at`,
      [name],
    );
    expect(events.map((event) => event.outcome)).toEqual(['attempted', 'failed']);
    expect(events[1].details).toMatchObject({ error_code: 'REQUEST_ABANDONED', orphan: 'none' });
    const [closed]: { status: string }[] = await t.dataSource.query(`SELECT status FROM runners WHERE name = $1`, [name]);
    expect(closed.status).toBe('failed');
  });
});
