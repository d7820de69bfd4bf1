/**
 * Readiness when the database goes away and comes back: 503 naming the database, liveness still
 * 200, the reason in the log; ready again once connections are accepted. PostgreSQL only: the
 * embedded database cannot be taken away from a running process. (A file of its own: the log lines a
 * test reads are those of the one app its file starts.)
 */
import pg from 'pg';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

/** Waits until the server has ended every session on the database (a terminated backend exits shortly after). */
async function connectionsGone(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 0; attempt < 250; attempt++) {
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    if (rows[0].n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Sessions on ${name} still open`);
}

onPostgres('readiness and the database (e2e)', () => {
  let t: TestApp;
  let admin: pg.Client;
  let name: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    name = new URL((t.config.database as { url: string }).url).pathname.slice(1);
  });

  afterAll(async () => {
    await admin?.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
    await admin?.end();
    await t?.close();
  });

  it('answers 503 naming the database while it refuses connections, and 200 once it accepts them again', async () => {
    await request(t.server).get('/readyz').expect(200);

    // The database goes away: no new connections, and the pool's open ones are cut.
    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    await connectionsGone(admin, name);

    const down = await request(t.server).get('/readyz').expect(503);
    expect(down.body).toEqual({
      status: 'unavailable',
      checks: { database: 'down', migrations: 'ok', policy: 'ok', shutdown: 'ok' },
    });
    await request(t.server).get('/healthz').expect(200);
    // The body names the check; the log says why, for the operator.
    // (Which error depends on the moment: a refused new connection, or one cut under the query.)
    expect(t.logs.some((line) => line.includes('Not ready (database down): database: '))).toBe(true);

    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
    expect((await request(t.server).get('/readyz').expect(200)).body.status).toBe('ok');
  });
});
