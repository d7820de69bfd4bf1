/**
 * No flow writes a secret anywhere: after credentials were issued, refused by the policy, by a quota
 * and by a suspension, cut off by the request deadline, and lost with a GitHub failure after GitHub
 * created the runner, no log line and no row of any table holds a registration token, a JIT config,
 * an installation token, the App's private key or a caller's bearer token. (The crash of the whole
 * service is searched the same way in provisioning-crash.slow-spec.ts.)
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';
import { dumpEveryTable, findSecrets, logHaystacks, secretsOf } from './support/secrets.js';

const JIT_PATH = '/api/v1/runners/jit';
const PROVISION_PATH = '/api/v1/runners/provision';
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
// Roomy enough for a loaded machine; the deadline case waits them out.
const GITHUB_TIMEOUT_MS = 3_000;
const REQUEST_DEADLINE_MS = 4_000;

const POLICY = `
rules:
  - name: admins
    issuer: default
    claims: { sub: [admin-sub] }
    grant: { admin: true, labels: { allowed: [{ pattern: ".*" }] } }
  - name: capped
    issuer: default
    claims: { team: capped }
    grant: { max_runners_per_identity: 1, labels: { allowed: [{ pattern: ".*" }] } }
  - name: everyone
    issuer: default
    claims: { sub: { pattern: ".+" } }
    grant: { labels: { allowed: [{ pattern: "ok-.*" }] }, registration_tokens: true }
`;

/** Polls until `check` holds (bounded: about 10 s), for what finishes after the answer. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('Secrets in logs and tables, on every path (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;
  /** Every bearer token sent to the service. */
  const bearerTokens: string[] = [];

  beforeAll(async () => {
    policy = writePolicyFile(POLICY);
    t = await startTestApp({
      policyFile: policy.path,
      github: { requestTimeoutMs: GITHUB_TIMEOUT_MS },
      app: { requestDeadlineMs: REQUEST_DEADLINE_MS },
    });
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  async function tokenFor(claims: Record<string, unknown>): Promise<string> {
    const token = await t.oidc.token(claims);
    bearerTokens.push(token);
    return token;
  }

  const post = (path: string, token: string, body: object) => request(t.server).post(path).auth(token, { type: 'bearer' }).send(body);

  const closingEvents = (name: string): Promise<{ outcome: string; details: Record<string, unknown> }[]> =>
    t.dataSource.query(`SELECT outcome, details FROM audit_events WHERE runner_name = $1 AND outcome NOT IN ('attempted')`, [name]);

  it('issues a JIT config and a registration token', async () => {
    const token = await tokenFor({ sub: 'alice-sub' });
    expect((await post(JIT_PATH, token, { runner_name: 'issued-jit', labels: ['ok-1'] })).status).toBe(201);
    expect((await post(PROVISION_PATH, token, { runner_name: 'issued-token', labels: ['ok-1'] })).status).toBe(201);
  });

  it('refuses a label the policy does not allow', async () => {
    const token = await tokenFor({ sub: 'bob-sub' });
    const response = await post(JIT_PATH, token, { runner_name: 'refused-label', labels: ['forbidden'] });
    expect([response.status, response.body.error.code]).toEqual([403, 'LABEL_NOT_ALLOWED']);
  });

  it('refuses a runner over the quota', async () => {
    const token = await tokenFor({ sub: 'carol-sub', team: 'capped' });
    expect((await post(JIT_PATH, token, { runner_name: 'within-quota', labels: ['ok-1'] })).status).toBe(201);
    const response = await post(JIT_PATH, token, { runner_name: 'over-quota', labels: ['ok-1'] });
    expect([response.status, response.body.error.code]).toEqual([403, 'QUOTA_EXCEEDED']);
  });

  it('refuses a suspended identity', async () => {
    const admin = await tokenFor({ sub: 'admin-sub' });
    const suspended = await tokenFor({ sub: 'dave-sub' });
    await post('/api/v1/admin/identities/suspend', admin, { issuer: t.oidc.issuer, subject: 'dave-sub', reason: 'INC-7' }).expect(200);
    const response = await post(JIT_PATH, suspended, { runner_name: 'suspended-one', labels: ['ok-1'] });
    expect([response.status, response.body.error.code]).toEqual([403, 'IDENTITY_SUSPENDED']);
  });

  it('answers 504 when the deadline runs out after GitHub created the runner, and closes the attempt', async () => {
    const token = await tokenFor({ sub: 'erin-sub' });
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: REQUEST_DEADLINE_MS, afterHandling: true, times: 1 });
    const response = await post(JIT_PATH, token, { runner_name: 'past-deadline', labels: ['ok-1'] });
    expect(response.status).toBe(504);
    expect(await eventually(async () => (await closingEvents('past-deadline')).some((event) => event.outcome === 'failed'))).toBe(true);
  });

  it('answers 502 when GitHub fails after creating the runner, and removes that runner', async () => {
    const token = await tokenFor({ sub: 'frank-sub' });
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 502, afterHandling: true, times: 1 });
    const response = await post(JIT_PATH, token, { runner_name: 'created-then-failed', labels: ['ok-1'] });
    expect(response.status).toBe(502);
    expect(t.simulator.findRunnerByName('created-then-failed')).toBeUndefined();
    expect((await closingEvents('created-then-failed')).map((event) => event.details.orphan)).toEqual(['removed']);
  });

  // Runs last: by now every path above has run.
  it('wrote no registration token, JIT config, installation token, App key or bearer token to a log line or a table', async () => {
    const issued = t.simulator.issuedCredentials();
    expect(issued.installationTokens.length).toBeGreaterThan(0);
    expect(issued.registrationTokens.length).toBeGreaterThan(0);
    // The one that reached its caller, the quota's first, and the two whose answers were lost.
    expect(issued.jitConfigs.length).toBeGreaterThanOrEqual(4);
    expect(bearerTokens.length).toBeGreaterThanOrEqual(6);
    const tables = await dumpEveryTable((sql) => t.dataSource.query(sql));
    expect(tables.map((table) => table.where)).toEqual(expect.arrayContaining(['table runners', 'table audit_events', 'table suspensions']));
    const secrets = secretsOf(issued, t.config.github.privateKey, bearerTokens);
    expect(findSecrets([...logHaystacks('service log', t.logs), ...tables], secrets)).toEqual([]);
  });
});
