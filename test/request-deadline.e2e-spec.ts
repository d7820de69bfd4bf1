/**
 * One budget per request (REQUEST_DEADLINE_MS), shared by every GitHub call made for it: a chain of
 * slow calls ends when the budget does, not when each call's own timeout would.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
const LIST_RUNNERS = /\/actions\/runners$/;

/** Polls until `check` holds (bounded: about 10 s), for what finishes after the answer. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('Request deadline (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Each GitHub call may take 1 s; the whole request 1.5 s.
    t = await startTestApp({ github: { requestTimeoutMs: 1_000 }, app: { requestDeadlineMs: 1_500 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("gives the orphan lookup only what is left of the request's budget, answers 504, and still closes the attempt", async () => {
    // GitHub creates the runner but its answer comes too late (after the 1 s timeout); the lookup
    // for what it may have created answers in 0.7 s: within its own timeout, but not within the
    // 0.5 s at most that the request has left by then.
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 1_200, afterHandling: true, times: 1 });
    t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, delayMs: 700, times: 1 });
    const token = await t.oidc.token({ sub: 'deadline-sub' });

    const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: 'over-budget' });

    expect(response.status).toBe(504);
    expect(['GITHUB_TIMEOUT', 'REQUEST_DEADLINE_EXCEEDED']).toContain(response.body.error.code);
    const closed = await eventually(async () => {
      const rows: { outcome: string; details: { orphan?: string } }[] = await t.dataSource.query(
        `SELECT outcome, details FROM audit_events WHERE runner_name = 'over-budget' AND outcome = 'failed'`,
      );
      return rows.length === 1 && rows[0].details.orphan === 'unknown';
    });
    expect(closed).toBe(true);
    // The next request for the name finds the runner GitHub made and recovers it.
    t.simulator.clearFaults();
    await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: 'over-budget' }).expect(201);
  });
});
