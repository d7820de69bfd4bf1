/**
 * GitHub's reads are retried when GitHub fails or cannot be reached; its writes never are (a JIT
 * config generated twice is a second runner, or a 409).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

const GET_RUNNER = /\/orgs\/[^/]+\/actions\/runners\/\d+$/;
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;

describe('GitHub retries (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await t.oidc.token({ sub: 'retry-sub' });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => t.simulator.clearFaults());

  const provision = (name: string) =>
    request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name });
  const refresh = (id: string) => request(t.server).post(`/api/v1/runners/${id}/refresh`).auth(token, { type: 'bearer' });
  const gets = () => t.simulator.requestCount('GET', GET_RUNNER);

  it('reads a runner again after two 5xx answers, and the caller sees only the answer', async () => {
    const { runner_id: id } = (await provision('retried-read').expect(201)).body;
    const before = gets();
    t.simulator.injectFault({ method: 'GET', path: GET_RUNNER, status: 502, times: 2 });

    const refreshed = await refresh(id).expect(200);
    expect(refreshed.body.runner_name).toBe('retried-read');
    expect(gets() - before).toBe(3);
  });

  it('gives up after the second retry', async () => {
    const { runner_id: id } = (await provision('failed-read').expect(201)).body;
    const before = gets();
    t.simulator.injectFault({ method: 'GET', path: GET_RUNNER, status: 503, times: 5 });

    const failed = await refresh(id).expect(502);
    expect(failed.body.error.code).toBe('GITHUB_UNAVAILABLE');
    expect(gets() - before).toBe(3);
  });

  it('never sends a write twice', async () => {
    const before = t.simulator.requestCount('POST', GENERATE_JIT);
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 502, times: 1 });

    await provision('unretried-write').expect(502);
    expect(t.simulator.requestCount('POST', GENERATE_JIT) - before).toBe(1);
  });
});
