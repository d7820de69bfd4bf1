/**
 * Counterexamples the property-based hostile-input test found, kept as plain tests once fixed.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

describe('hostile input: found by the property-based test (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ auth: 'off' });
  });

  afterAll(async () => {
    await t?.close();
  });

  const errorsLogged = () =>
    t.logs.map((line) => JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } }).filter((line) => line.level >= 50);

  it('refuses a body nested thousands of arrays deep with 400, not a stack overflow', async () => {
    const body = '['.repeat(3000) + ']'.repeat(3000);
    const response = await request(t.server).post('/api/v1/runners/jit').set('content-type', 'application/json').send(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toMatch(/nests arrays and objects more than 32 levels deep/);

    const inField = await request(t.server)
      .post('/api/v1/runners/jit')
      .set('content-type', 'application/json')
      .send(`{"runner_name":"deep","labels":${'['.repeat(3000)}${']'.repeat(3000)}}`)
      .expect(400);
    expect(inField.body.error.details.violations).toEqual([{ field: 'labels', message: 'labels nests arrays and objects more than 32 levels deep' }]);
    expect(errorsLogged()).toEqual([]);
  });

  it('refuses a runner id with a NUL character, which PostgreSQL text cannot hold, with 400', async () => {
    const response = await request(t.server).get('/api/v1/runners/%00').expect(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { violations: [{ field: 'idOrName', message: 'idOrName must not contain the NUL character (\\u0000)' }] },
    });
    expect(errorsLogged()).toEqual([]);
  });

  it('refuses text with a lone surrogate, which jsonb cannot hold, with 400', async () => {
    // Found as {"rule":"\ud800"} on POST /admin/identities/resume: the audit event's jsonb refused it.
    const response = await request(t.server)
      .post('/api/v1/runners/jit')
      .set('content-type', 'application/json')
      .send('{"runner_name":"surrogate-1","labels":["\\ud800"]}')
      .expect(400);
    expect(response.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { violations: [{ field: 'labels.0', message: 'labels.0 must be valid Unicode text (it has a lone surrogate)' }] },
    });
    expect(errorsLogged()).toEqual([]);
  });
});
