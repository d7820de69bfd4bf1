/**
 * Readiness on a database that init-db has not prepared: not ready, naming the migrations, while
 * liveness answers; ready once they are applied. (A file of its own: the log lines a test reads are
 * those of the one app its file starts.)
 */
import request from 'supertest';
import { MIGRATIONS } from '../src/database/migrations/index.js';
import { applyMigrations } from '../src/database/schema.js';
import { startTestApp, type TestApp } from './support/app.js';

describe('readiness and migrations (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ schema: 'none' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 503 naming the migrations until init-db has run, then 200', async () => {
    const before = await request(t.server).get('/readyz').expect(503);
    expect(before.body).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', migrations: 'pending', policy: 'ok', shutdown: 'ok' },
    });
    await request(t.server).get('/healthz').expect(200);
    expect(t.logs.some((line) => line.includes(`Not ready (migrations pending): migrations: ${MIGRATIONS.length} pending; run init-db`))).toBe(true);

    await applyMigrations(t.dataSource);

    const after = await request(t.server).get('/readyz').expect(200);
    expect(after.body.status).toBe('ok');
    expect(t.logs.some((line) => line.includes('Ready again'))).toBe(true);
  });
});
