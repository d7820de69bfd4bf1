/**
 * GitHub out of reach: the caller is told GitHub is unavailable, and nothing about the network; the
 * operator finds the address and the error in the log, under the answer's request id. (A file of its
 * own: the log lines a test reads are those of the one app its file starts.)
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { closedPort } from './support/net.js';

describe('Provisioning when GitHub cannot be reached (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens there: every call to this GitHub is refused at once.
    const closed = await closedPort();
    t = await startTestApp({ github: { apiUrl: `http://127.0.0.1:${closed}` } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('tells the caller GitHub is unavailable, and the operator (in the log, by request id) why', async () => {
    const token = await t.oidc.token({ sub: 'offline-sub' });
    const response = await request(t.server)
      .post('/api/v1/runners/jit')
      .auth(token, { type: 'bearer' })
      .send({ runner_name: 'unreachable-github' })
      .expect(502);

    expect(response.body.error.code).toBe('GITHUB_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    const logged = t.logs.find((line) => line.includes('ECONNREFUSED') && line.includes(response.body.request_id));
    expect(logged).toBeDefined();
  });
});
