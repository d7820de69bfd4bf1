/**
 * A graceful stop: /health and /readyz turn 503 first (/healthz stays 200: the process is alive), the
 * service keeps serving through the drain period, then stops accepting and lets the requests under
 * way finish.
 */
import type { AddressInfo } from 'node:net';
import { gracefulShutdown } from '../src/shutdown.js';
import { startTestApp, type TestApp } from './support/app.js';

const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;

describe('Graceful shutdown (e2e)', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 503 on /health and /readyz at once, finishes the request under way, then refuses new connections', async () => {
    const token = await t.oidc.token({ sub: 'late-caller' });
    // GitHub takes a while with this one: it is still under way when the stop begins.
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 1_500, times: 1 });
    const underWay = fetch(`${base}/api/v1/runners/jit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runner_name: 'finishes-during-shutdown' }),
    });
    while (t.simulator.requestCount('POST', GENERATE_JIT) === 0) await new Promise((resolve) => setTimeout(resolve, 20));

    const stopped = gracefulShutdown(t.app, { drainMs: 500, closeTimeoutMs: 10_000 }, 'test');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'error', error: { shutdown: { status: 'down' } } });
    const readiness = await fetch(`${base}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', migrations: 'ok', policy: 'ok', shutdown: 'draining' },
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const answer = await underWay;
    expect(answer.status).toBe(201);
    expect(((await answer.json()) as { runner_name: string }).runner_name).toBe('finishes-during-shutdown');
    await stopped;
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
