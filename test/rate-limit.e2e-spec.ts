/**
 * Floods: the limit per client address cuts forged tokens before anything verifies them, the limit
 * per identity cuts a refused caller before its refusals fill the audit trail, health is never
 * limited, and 0 turns a limit off. Every request here comes from 127.0.0.1.
 */
import request from 'supertest';
import type { RateLimitSettings } from '../src/config/app-config.js';
import { startTestApp, type TestApp } from './support/app.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';
import { TestOidcProvider } from './support/oidc.js';

const JIT_PATH = '/api/v1/runners/jit';
const ME_PATH = '/api/v1/me';

/** The app listening on an ephemeral port, so concurrent requests share one server. */
async function startListening(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const t = await startTestApp(options);
  await t.app.listen(0, '127.0.0.1');
  return t;
}

function expectRateLimited(response: request.Response, limit: 'ip' | 'identity'): void {
  expect(response.status).toBe(429);
  expect(response.body.error.code).toBe('RATE_LIMITED');
  expect(response.body.error.details).toMatchObject({ limit });
  expect(response.body.request_id).toEqual(expect.any(String));
  // Whole seconds, within the minute the limit counts.
  expect(response.headers['retry-after']).toMatch(/^\d+$/);
  const seconds = Number(response.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  expect(response.body.error.details.retry_after_seconds).toBe(seconds);
}

function countStatuses(responses: request.Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('rate limit per identity (e2e)', () => {
  const LIMIT = 10;
  let t: TestApp;
  let oidc: TestOidcProvider;
  let policy: PolicyFile;

  beforeAll(async () => {
    oidc = await TestOidcProvider.start();
    policy = writePolicyFile(`
issuers:
  - name: test
    issuer: ${oidc.issuer}
    jwks_url: ${oidc.jwksUrl}
    audience: ${oidc.audience}
rules:
  - name: ci-only
    issuer: test
    claims: { email: { pattern: ".*@example\\\\.test" } }
    grant: { labels: { allowed: [ci] } }
`);
    t = await startListening({ policyFile: policy.path, rateLimit: { perIpPerMinute: 0, perIdentityPerMinute: LIMIT } });
  });

  afterAll(async () => {
    await t?.close();
    await oidc?.stop();
    policy?.remove();
  });

  it('answers a burst of 100 refused requests from one identity with 403 up to the limit, then 429, auditing only the first', async () => {
    const subject = 'flooding-caller';
    const token = await oidc.token({ sub: subject, email: 'flood@example.test' });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        request(t.server)
          .post(JIT_PATH)
          .auth(token, { type: 'bearer' })
          .send({ runner_name: `flood-${index}`, labels: ['prod'] }),
      ),
    );

    expect(countStatuses(responses)).toEqual({ 403: LIMIT, 429: 100 - LIMIT });
    for (const refused of responses.filter(({ status }) => status === 403)) {
      expect(refused.body.error.code).toBe('LABEL_NOT_ALLOWED');
    }
    for (const limited of responses.filter(({ status }) => status === 429)) expectRateLimited(limited, 'identity');
    const audited: { outcome: string; count: number }[] = await t.dataSource.query(
      `SELECT outcome, count(*)::int AS count FROM audit_events WHERE actor_subject = $1 GROUP BY outcome`,
      [subject],
    );
    expect(audited).toEqual([{ outcome: 'denied', count: LIMIT }]);
  });

  it('counts each identity on its own: another caller from the same address is not limited', async () => {
    const busy = await oidc.token({ sub: 'busy-caller' });
    const quiet = await oidc.token({ sub: 'quiet-caller' });
    for (let sent = 0; sent < LIMIT; sent += 1) {
      await request(t.server).get(ME_PATH).auth(busy, { type: 'bearer' }).expect(200);
    }
    expectRateLimited(await request(t.server).get(ME_PATH).auth(busy, { type: 'bearer' }), 'identity');

    await request(t.server).get(ME_PATH).auth(quiet, { type: 'bearer' }).expect(200);
  });

  it('never limits /health', async () => {
    for (let sent = 0; sent < 3 * LIMIT; sent += 1) {
      await request(t.server).get('/health').expect(200);
    }
  });
});

describe('rate limit per client address (e2e)', () => {
  const LIMIT = 5;
  /** More issuers than the limit: each one's first token fetches that issuer's keys. */
  const ISSUERS = 2 * LIMIT;
  let t: TestApp;
  let oidc: TestOidcProvider;
  let policy: PolicyFile;
  const issuerUrl = (index: number) => `https://issuer-${index}.example`;

  beforeAll(async () => {
    oidc = await TestOidcProvider.start();
    const issuers = Array.from(
      { length: ISSUERS },
      (_, index) => `  - { name: issuer-${index}, issuer: "${issuerUrl(index)}", jwks_url: "${oidc.jwksUrl}", audience: ${oidc.audience} }`,
    );
    const rule = '  - { name: anyone, issuer: issuer-0, claims: { email: { pattern: ".*" } }, grant: {} }';
    policy = writePolicyFile(`issuers:\n${issuers.join('\n')}\nrules:\n${rule}\n`);
    t = await startListening({ policyFile: policy.path, rateLimit: { perIpPerMinute: LIMIT, perIdentityPerMinute: 0 } });
  });

  afterAll(async () => {
    await t?.close();
    await oidc?.stop();
    policy?.remove();
  });

  it('refuses forged tokens with 429 past the limit, before their issuer keys are fetched or the refusal audited', async () => {
    const responses: request.Response[] = [];
    for (let index = 0; index < ISSUERS; index += 1) {
      // Signed with a key no issuer publishes: only a fetch of the issuer's key set can tell.
      const forged = await oidc.token({}, { issuer: issuerUrl(index), signWith: 'unknown-key' });
      responses.push(await request(t.server).get(ME_PATH).auth(forged, { type: 'bearer' }));
    }

    expect(responses.map(({ status }) => status)).toEqual([...Array(LIMIT).fill(401), ...Array(ISSUERS - LIMIT).fill(429)]);
    // One key-set fetch for each token that reached authentication, none for the rest.
    expect(oidc.jwksRequests).toBe(LIMIT);
    for (const limited of responses.slice(LIMIT)) {
      expectRateLimited(limited, 'ip');
      expect(limited.headers['www-authenticate']).toBeUndefined();
    }
    const limitedIds = responses.slice(LIMIT).map((response) => response.body.request_id as string);
    const audited: { count: number }[] = await t.dataSource.query(
      `SELECT count(*)::int AS count FROM audit_events WHERE request_id = ANY($1)`,
      [limitedIds],
    );
    expect(audited).toEqual([{ count: 0 }]);
  });

  it('still answers /health from the limited address, every time', async () => {
    expectRateLimited(await request(t.server).get(ME_PATH), 'ip');
    for (let sent = 0; sent < 4 * LIMIT; sent += 1) {
      const response = await request(t.server).get('/health').expect(200);
      expect(response.headers['retry-after']).toBeUndefined();
    }
  });

  it('documents 429 RATE_LIMITED with Retry-After on every API operation, and not on /health', async () => {
    const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method, responses: operation.responses })),
    );
    const api = operations.filter(({ path }) => path.startsWith('/api/v1/'));
    expect(api.length).toBeGreaterThan(10);
    expect(api.filter(({ responses }) => !responses['429']?.headers?.['Retry-After']).map(({ path, method }) => `${method} ${path}`)).toEqual([]);
    expect(operations.find(({ path }) => path === '/health')?.responses['429']).toBeUndefined();
  });
});

describe('rate limits turned off with 0 (e2e)', () => {
  let t: TestApp;

  afterEach(async () => {
    await t?.close();
  });

  async function sendMe(count: number): Promise<Record<number, number>> {
    const statuses: Record<number, number> = {};
    // Ten at a time: quick, and still one address and one identity.
    for (let sent = 0; sent < count; sent += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => request(t.server).get(ME_PATH)));
      for (const { status } of batch) statuses[status] = (statuses[status] ?? 0) + 1;
    }
    return statuses;
  }

  it('lets 650 requests a minute through from one address and one identity, past both defaults (600 and 120)', async () => {
    const off: RateLimitSettings = { perIpPerMinute: 0, perIdentityPerMinute: 0 };
    t = await startListening({ auth: 'off', rateLimit: off });
    expect(await sendMe(650)).toEqual({ 200: 650 });
  });

  it('limits the local user like any identity when authentication is off, the other limit staying off', async () => {
    t = await startListening({ auth: 'off', rateLimit: { perIpPerMinute: 0, perIdentityPerMinute: 3 } });
    expect(await sendMe(20)).toEqual({ 200: 3, 429: 17 });
  });
});
