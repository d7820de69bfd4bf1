/**
 * The probes: /healthz (liveness: the process answers) and /readyz (readiness: database, migrations,
 * policy, not shutting down), unversioned and open. GitHub is never part of readiness: here it cannot
 * be reached at all, and the instance stays ready. (Draining: shutdown.e2e-spec.ts; a database that
 * lacks migrations or goes away: readiness-*.e2e-spec.ts.)
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { closedPort } from './support/net.js';

const ALL_OK = { database: 'ok', migrations: 'ok', policy: 'ok', shutdown: 'ok' };

describe('probes (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens there: every call to this GitHub is refused at once.
    const closed = await closedPort();
    t = await startTestApp({ github: { apiUrl: `http://127.0.0.1:${closed}` } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers liveness and readiness at the root, to callers without a token', async () => {
    const live = await request(t.server).get('/healthz').expect(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await request(t.server).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: ALL_OK });
  });

  it('ignores a bad bearer token rather than refusing the probe', async () => {
    await request(t.server).get('/healthz').auth('not-a-jwt', { type: 'bearer' }).expect(200);
    await request(t.server).get('/readyz').auth('not-a-jwt', { type: 'bearer' }).expect(200);
  });

  it('serves the probes only at the root, not under the API prefix', async () => {
    await request(t.server).get('/api/v1/healthz').expect(404);
    await request(t.server).get('/api/v1/readyz').expect(404);
  });

  it('stays ready while GitHub cannot be reached, which callers learn from their own requests', async () => {
    const token = await t.oidc.token({ sub: 'probe-neighbour' });
    const jit = await request(t.server)
      .post('/api/v1/runners/jit')
      .auth(token, { type: 'bearer' })
      .send({ runner_name: 'while-github-is-away' })
      .expect(502);
    expect(jit.body.error.code).toBe('GITHUB_UNAVAILABLE');
    expect((await request(t.server).get('/readyz').expect(200)).body.checks).toEqual(ALL_OK);
  });

  it('documents both probes in the API description, with 503 for readiness', async () => {
    const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body;
    expect(document.paths['/healthz'].get.operationId).toBe('checkLiveness');
    expect(Object.keys(document.paths['/healthz'].get.responses)).toEqual(['200']);
    const readyz = document.paths['/readyz'].get;
    expect(readyz.operationId).toBe('checkReadiness');
    expect(Object.keys(readyz.responses).sort()).toEqual(['200', '503']);
    expect(readyz.security).toBeUndefined();
    expect(Object.keys(document.components.schemas.ReadinessChecksDto.properties).sort()).toEqual(
      Object.keys(ALL_OK).sort(),
    );
  });
});
