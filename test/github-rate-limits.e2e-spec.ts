/**
 * GitHub's rate limits, coordinated: once GitHub says wait, no instance calls it (requests answer 503
 * with Retry-After, scheduler ticks are skipped, the CLI sync says so) until the wait is over; and
 * the service's own limits on concurrent calls and on JIT configs a minute.
 */
import request from 'supertest';
import { EXIT_FAILURE } from '../src/commands/run-cli.js';
import { GithubClient } from '../src/github/github.client.js';
import { BUDGET_REFRESH_MS } from '../src/github/github-budget.service.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { ReconciliationScheduler, SYNC_JOB } from '../src/runners/reconciliation/reconciliation.scheduler.js';
import { startTestApp, type TestApp } from './support/app.js';
import { cli, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';

const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
const LIST_RUNNERS = /^\/orgs\/[^/]+\/actions\/runners$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whole seconds, as the Retry-After header says them. */
function retryAfterOf(response: request.Response): number {
  const header = response.headers['retry-after'];
  expect(header).toMatch(/^\d+$/);
  return Number(header);
}

/** Each test's own caller, so per-owner quotas and names never collide across tests. */
async function callerOf(t: TestApp, sub: string): Promise<string> {
  return t.oidc.token({ sub, email: `${sub}@example.com` });
}

const jit = (t: TestApp, token: string, name: string) =>
  request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels: ['x'] });
const provision = (t: TestApp, token: string, name: string) =>
  request(t.server).post('/api/v1/runners/provision').auth(token, { type: 'bearer' }).send({ runner_name: name, labels: ['x'] });

describe("GitHub's rate limit on one instance (e2e)", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => t.simulator.clearFaults());

  it('after a secondary limit answers 503 with Retry-After without calling GitHub, skips scheduler ticks, and goes through once the wait is over', async () => {
    const alice = await callerOf(t, 'alice');
    const { runner_id: warm } = (await jit(t, alice, 'before-limit').expect(201)).body;
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, rateLimit: 'secondary', retryAfterSeconds: 2, times: 1 });

    const limited = await jit(t, alice, 'limited').expect(503);
    expect(limited.body.error.code).toBe('GITHUB_RATE_LIMITED');
    expect(retryAfterOf(limited)).toBe(2);

    const seen = t.simulator.requests().length;
    const held = await jit(t, alice, 'held-back').expect(503);
    expect(held.body.error).toMatchObject({ code: 'GITHUB_RATE_LIMITED', details: { retry_after_seconds: retryAfterOf(held) } });
    expect(held.body.error.message).toMatch(/nothing was sent to GitHub/);
    expect(retryAfterOf(held)).toBeGreaterThanOrEqual(1);
    expect(retryAfterOf(held)).toBeLessThanOrEqual(2);
    const token = await provision(t, alice, 'held-token').expect(503);
    expect(token.body.error.code).toBe('GITHUB_RATE_LIMITED');
    await request(t.server).post(`/api/v1/runners/${warm}/refresh`).auth(alice, { type: 'bearer' }).expect(503);
    const tick = await t.app.get(ReconciliationScheduler).tick(SYNC_JOB);
    expect(tick).toBe('rate-limited');
    expect(t.simulator.requests().length).toBe(seen);
    expect(t.logs.filter((line) => line.includes(`${SYNC_JOB}: skipped, GitHub's rate limit says wait`))).toHaveLength(1);
    const [row]: { status: string; failure_code: string }[] = await t.dataSource.query(
      `SELECT status, failure_code FROM runners WHERE name = 'held-back'`,
    );
    expect(row).toEqual({ status: 'failed', failure_code: 'GITHUB_RATE_LIMITED' });

    await sleep(retryAfterOf(held) * 1000);
    await jit(t, alice, 'after-limit').expect(201);
    expect(await t.app.get(ReconciliationScheduler).tick(SYNC_JOB)).toBe('ran');
  });

  it("after GitHub's primary limit refuses a request, waits for x-ratelimit-reset without calling GitHub", async () => {
    const bob = await callerOf(t, 'bob');
    await jit(t, bob, 'bob-warm').expect(201);
    t.simulator.setRateLimit({ remaining: 0, resetInSeconds: 2 });

    const refused = await jit(t, bob, 'bob-refused').expect(503);
    expect(refused.body.error.code).toBe('GITHUB_RATE_LIMITED');
    const refusedByGithub = t.simulator.requests().at(-1);
    expect(refusedByGithub).toMatchObject({ method: 'POST', status: 403 });

    const seen = t.simulator.requests().length;
    const held = await jit(t, bob, 'bob-held').expect(503);
    expect(retryAfterOf(held)).toBeLessThanOrEqual(2);
    expect(t.simulator.requests().length).toBe(seen);

    await sleep(retryAfterOf(held) * 1000);
    await jit(t, bob, 'bob-after-reset').expect(201);
  });

  it('stops before GitHub refuses: an answer with no requests left holds every call until the reset', async () => {
    const carol = await callerOf(t, 'carol');
    await jit(t, carol, 'carol-warm').expect(201);
    t.simulator.setRateLimit({ remaining: 1, resetInSeconds: 2 });

    await jit(t, carol, 'carol-last').expect(201);
    const seen = t.simulator.requests().length;
    const held = await jit(t, carol, 'carol-held').expect(503);
    expect(held.body.error.code).toBe('GITHUB_RATE_LIMITED');
    expect(t.simulator.requests().length).toBe(seen);

    await sleep(retryAfterOf(held) * 1000);
    await jit(t, carol, 'carol-after-reset').expect(201);
  });
});

/** Two instances need one database they can both reach: the PostgreSQL server (CI has one). */
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres("GitHub's rate limit shared by two instances on one PostgreSQL database (e2e)", () => {
  let database: TestDatabase;
  let simulator: GithubSimulator;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([testDatabaseConfig(), GithubSimulator.start()]);
    first = await startTestApp({ database: database.config, simulator });
    second = await startTestApp({ database: database.config, simulator });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await simulator?.stop();
    await database?.drop();
  });

  it('a limit one instance saw holds back the other: 503 with Retry-After, no call to GitHub, ticks skipped', async () => {
    // Each instance trusts its own test issuer.
    const [dave, erin] = await Promise.all([callerOf(first, 'dave'), callerOf(second, 'erin')]);
    // The second instance has just read the shared budget: it must read it again to learn of the limit.
    await jit(second, erin, 'erin-warm').expect(201);
    simulator.injectFault({ method: 'POST', path: GENERATE_JIT, rateLimit: 'secondary', retryAfterSeconds: 3, times: 1 });
    await jit(first, dave, 'dave-limited').expect(503);

    await sleep(BUDGET_REFRESH_MS + 100);
    const seen = simulator.requests().length;
    const held = await jit(second, erin, 'erin-held').expect(503);
    expect(held.body.error.code).toBe('GITHUB_RATE_LIMITED');
    expect(retryAfterOf(held)).toBeGreaterThanOrEqual(1);
    expect(retryAfterOf(held)).toBeLessThanOrEqual(3);
    expect(await second.app.get(ReconciliationScheduler).tick(SYNC_JOB)).toBe('rate-limited');
    expect(simulator.requests().length).toBe(seen);
    const [shared]: { app_id: string }[] = await first.dataSource.query(`SELECT app_id FROM github_rate_limits`);
    expect(shared).toEqual({ app_id: simulator.appId });

    await sleep(retryAfterOf(held) * 1000);
    await jit(second, erin, 'erin-after').expect(201);
  });
});

describe('CLI sync-github while GitHub says wait (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  it('says it is held back by the rate limit, exits 1 and does not call GitHub', async () => {
    const config = await seedThroughApp(database, simulator, async (t) => {
      simulator.injectFault({ method: 'POST', path: GENERATE_JIT, rateLimit: 'secondary', retryAfterSeconds: 60, times: 1 });
      await jit(t, await callerOf(t, 'ivan'), 'ivan-limited').expect(503);
    });
    const seen = simulator.requests().length;

    const result = await cli(config, 'sync-github');

    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/^Error: GITHUB_RATE_LIMITED: GitHub asked this service to wait .*nothing was sent to GitHub; retry in \d+ s/m);
    expect(result.stderr).toMatch(/every instance waits/);
    expect(simulator.requests().length).toBe(seen);
  });
});

describe('Concurrent calls to GitHub are capped (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ github: { maxConcurrency: 2, jitConfigPerMinute: 0 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('never has more than GITHUB_MAX_CONCURRENCY calls under way at GitHub; the others wait their turn', async () => {
    const frank = await callerOf(t, 'frank');
    await jit(t, frank, 'frank-warm').expect(201);
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 400 });

    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => jit(t, frank, `frank-${i}`)));

    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(t.simulator.requestCount('POST', GENERATE_JIT)).toBe(7);
    expect(t.simulator.peakConcurrentRequests()).toBe(2);
  });
});

describe("A sync's listing leaves GitHub slots to callers (e2e)", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ github: { maxConcurrency: 4 }, app: { requestDeadlineMs: 1_000 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers a JIT request while every list page the sync can send at once is slow', async () => {
    const ivan = await callerOf(t, 'ivan');
    // Six pages: the first answers at once (it says how many there are), the other five take 1.5 s each.
    t.simulator.addRunners(550, { namePrefix: 'org-wide' });
    t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '1' } });
    t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, delayMs: 1_500 });
    const listing = t.app.get(GithubClient).listAllRunners();
    listing.catch(() => undefined); // awaited below; if an expectation fails first, the app closes under it
    while (t.simulator.requestCount('GET', LIST_RUNNERS) === 0) await sleep(20);
    await sleep(100);
    const inFlightBefore = t.simulator.peakConcurrentRequests();

    // With every slot held by a page, this call would wait 1.5 s for one, past its 1 s deadline (504).
    const answer = await jit(t, ivan, 'ivan-during-sync');

    expect(answer.status).toBe(201);
    expect(inFlightBefore).toBe(3);
    expect((await listing).runners).toHaveLength(551);
    expect(t.simulator.peakConcurrentRequests()).toBeLessThanOrEqual(4);
  });
});

describe('A call waiting for its turn, and the JIT configs a minute (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ github: { maxConcurrency: 1, jitConfigPerMinute: 3 }, app: { requestDeadlineMs: 1_500 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => t.simulator.clearFaults());

  it('answers 504 to a request whose deadline passes while it waits, and never sends its call', async () => {
    const grace = await callerOf(t, 'grace');
    t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, delayMs: 2_500, times: 1 });
    // A call outside any request (as the CLI and the scheduler make them) holds the only slot.
    const holding = t.app.get(GithubClient).findRunnerByName('anything');
    await sleep(200);

    const late = await jit(t, grace, 'grace-late').expect(504);
    expect(late.body.error.code).toBe('REQUEST_DEADLINE_EXCEEDED');
    await holding;
    await sleep(100);
    expect(t.simulator.requestCount('POST', GENERATE_JIT)).toBe(0);
  });

  it('refuses the 4th JIT config of the minute with 503 and Retry-After, without calling GitHub', async () => {
    const heidi = await callerOf(t, 'heidi');
    const first = await jit(t, heidi, 'heidi-1').expect(201);
    for (const name of ['heidi-2', 'heidi-3']) await jit(t, heidi, name).expect(201);
    expect(t.simulator.requestCount('POST', GENERATE_JIT)).toBe(3);

    const fourth = await jit(t, heidi, 'heidi-4').expect(503);

    expect(fourth.body.error.code).toBe('GITHUB_RATE_LIMITED');
    expect(retryAfterOf(fourth)).toBeGreaterThanOrEqual(1);
    expect(retryAfterOf(fourth)).toBeLessThanOrEqual(60);
    expect(t.simulator.requestCount('POST', GENERATE_JIT)).toBe(3);
    // Only generate-jitconfig counts: other calls to GitHub go on.
    await request(t.server).post(`/api/v1/runners/${first.body.runner_id}/refresh`).auth(heidi, { type: 'bearer' }).expect(200);
  });
});
