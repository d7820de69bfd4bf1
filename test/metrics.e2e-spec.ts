import request from 'supertest';
import { Metrics } from '../src/metrics/metrics.js';
import { startMetricsServer } from '../src/metrics/metrics-server.js';
import { startTestApp, type TestApp } from './support/app.js';

/** The value of one series in Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics (e2e)', () => {
  let t: TestApp;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  const scrape = async () => {
    const response = await request(t.server).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  it('answers without an OIDC token, in the Prometheus text format, with the process metrics', async () => {
    const text = await scrape();
    expect(text).toContain('# TYPE rts_http_request_duration_seconds histogram');
    expect(text).toContain('# TYPE rts_provisions_total counter');
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts provisions by kind, outcome and code, and runners by status and kind, with no name or id in any label', async () => {
    const name = 'metrics-runner-7f3a';
    await request(t.server).post('/api/v1/runners/jit').auth(alice, { type: 'bearer' }).send({ runner_name: name, labels: ['gpu'] }).expect(201);
    // Another caller wants the name while it is held: refused with RUNNER_NAME_TAKEN.
    const bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
    await request(t.server).post('/api/v1/runners/jit').auth(bob, { type: 'bearer' }).send({ runner_name: name }).expect(409);
    await request(t.server).get(`/api/v1/runners/${name}`).auth(alice, { type: 'bearer' }).expect(200);

    const text = await scrape();
    expect(sample(text, 'rts_provisions_total{kind="jit",outcome="succeeded",code=""}')).toBe(1);
    expect(sample(text, 'rts_provisions_total{kind="jit",outcome="denied",code="RUNNER_NAME_TAKEN"}')).toBe(1);
    expect(sample(text, 'rts_runners{status="pending",kind="jit"}')).toBe(1);
    expect(sample(text, 'rts_github_requests_total{operation="generate-jitconfig",status="201"}')).toBe(1);
    expect(sample(text, 'rts_github_rate_limit_remaining')).toBeGreaterThan(0);
    expect(sample(text, 'rts_github_rate_limit_reset_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(sample(text, 'rts_http_request_duration_seconds_count{route="/api/v1/runners/:idOrName",method="GET",status="200"}')).toBe(1);
    expect(sample(text, 'rts_http_request_duration_seconds_count{route="/api/v1/runners/jit",method="POST",status="201"}')).toBe(1);
    expect(text).not.toContain(name);
    expect(text).not.toContain('alice');
    expect(text).not.toContain('bob');
  });

  it('files every unrouted path under one series', async () => {
    for (const path of ['/no-such-a', '/no-such-b', '/api/v1/nothing/here']) await request(t.server).get(path).expect(404);
    const text = await scrape();
    expect(sample(text, 'rts_http_request_duration_seconds_count{route="unmatched",method="GET",status="404"}')).toBe(3);
    expect(text).not.toContain('no-such');
  });

  it('counts refused tokens by reason', async () => {
    const expired = await t.oidc.token({ sub: 'mallory' }, { expiresIn: -600 });
    await request(t.server).get('/api/v1/runners').auth(expired, { type: 'bearer' }).expect(401);
    await request(t.server).get('/api/v1/runners').expect(401);
    const text = await scrape();
    expect(sample(text, 'rts_auth_failures_total{reason="expired"}')).toBe(1);
    expect(sample(text, 'rts_auth_failures_total{reason="missing"}')).toBe(1);
  });
});

describe('GET /metrics with METRICS_TOKEN (e2e)', () => {
  let t: TestApp;
  const token = 'scrape-secret-5d1e';

  beforeAll(async () => {
    t = await startTestApp({ metrics: { token } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a scrape without the token or with another, and serves one with it', async () => {
    const none = await request(t.server).get('/metrics').expect(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    await request(t.server).get('/metrics').auth('scrape-secret-5d1f', { type: 'bearer' }).expect(401);
    // An OIDC token is not the metrics token.
    await request(t.server).get('/metrics').auth(await t.oidc.token(), { type: 'bearer' }).expect(401);
    const allowed = await request(t.server).get('/metrics').auth(token, { type: 'bearer' }).expect(200);
    expect(allowed.text).toContain('rts_provisions_total');
    expect(t.logs.join('\n')).not.toContain(token);
  });
});

describe('METRICS_PORT (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ metrics: { port: 1 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('takes /metrics off the API port', async () => {
    await request(t.server).get('/metrics').expect(404);
  });

  it('serves /metrics on its own port, with the token when one is set, and nothing else there', async () => {
    const server = await startMetricsServer(t.app.get(Metrics), { host: '127.0.0.1', port: 0, token: 'port-token' });
    try {
      const address = server.address() as { port: number };
      const base = `http://127.0.0.1:${address.port}`;
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer port-token' } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('rts_runners');
      expect((await fetch(`${base}/api/v1/runners`, { headers: { authorization: 'Bearer port-token' } })).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
