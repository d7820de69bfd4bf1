import request from 'supertest';
import { fingerprint } from '../src/audit/audit.service.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import { startTestApp, type TestApp } from './support/app.js';
import { dumpEveryTable, findSecrets, logHaystacks, secretsOf } from './support/secrets.js';

const PROVISION_PATH = '/api/v1/runners/provision';
const REGISTRATION_TOKEN = /\/actions\/runners\/registration-token$/;
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
/** The seed's step 2 body (USAGE_EXAMPLES.md, "Legacy: Registration Token Workflow"). */
const SEED_STEP_2 = { runner_name: 'gpu-worker-001', labels: ['gpu', 'ubuntu-22.04', 'cuda-11.8'], ephemeral: true };
/** The seed's step 3 body: the same runner again, to save the token. */
const SEED_STEP_3 = { runner_name: 'gpu-worker-001', labels: ['gpu'], ephemeral: true };
const ONE_HOUR_MS = 60 * 60 * 1000;

interface RunnerRow {
  id: string;
  name: string;
  kind: string;
  status: string;
  ephemeral: boolean;
  labels: string[];
  owner_subject: string;
  failure_code: string | null;
  failure_reason: string | null;
  expires_at: Date | null;
}

interface AuditRow {
  action: string;
  outcome: string;
  actor: string;
  runner_id: string | null;
  runner_name: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

/** Every registration token a test file's requests were given, to check that none was logged or stored. */
function tokenCollector() {
  const issued: string[] = [];
  const collect = (response: { body?: { registration_token?: string } }) => {
    if (response.body?.registration_token) issued.push(response.body.registration_token);
  };
  return { issued, collect };
}

describe('Registration tokens (e2e)', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  const tokens = tokenCollector();

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  const provision = (token: string, body: object) =>
    request(t.server).post(PROVISION_PATH).auth(token, { type: 'bearer' }).send(body).on('response', tokens.collect);

  const tokenCalls = () => t.simulator.requestCount('POST', REGISTRATION_TOKEN);
  const jitCalls = () => t.simulator.requestCount('POST', GENERATE_JIT);

  const runnerRow = async (id: string): Promise<RunnerRow> =>
    ((await t.dataSource.query(`SELECT * FROM runners WHERE id = $1`, [id])) as RunnerRow[])[0];

  const runnerRows = (name: string): Promise<RunnerRow[]> =>
    t.dataSource.query(`SELECT * FROM runners WHERE name = $1 ORDER BY created_at`, [name]);

  const auditRows = (name: string): Promise<AuditRow[]> =>
    t.dataSource.query(`SELECT * FROM audit_events WHERE runner_name = $1 ORDER BY occurred_at, id`, [name]);

  const eventsOf = (events: AuditRow[], runnerId: string) =>
    events.filter((event) => event.runner_id === runnerId).map((event) => `${event.action}:${event.outcome}`);

  describe('provisioning', () => {
    it("answers the seed's request with every field and a config.sh command for the org", async () => {
      const calls = tokenCalls();
      const jits = jitCalls();
      const response = await provision(alice, SEED_STEP_2).expect(201);

      const githubUrl = `${t.simulator.url}/${t.simulator.org}`;
      const token: string = response.body.registration_token;
      expect(response.body).toEqual({
        runner_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        runner_name: 'gpu-worker-001',
        registration_token: expect.stringMatching(/^[A-Z2-7]{20,}$/),
        expires_at: expect.any(String),
        github_url: githubUrl,
        runner_group_id: 1,
        ephemeral: true,
        labels: ['gpu', 'ubuntu-22.04', 'cuda-11.8'],
        configuration_command: `./config.sh --url ${githubUrl} --token ${token} --name gpu-worker-001 --labels gpu,ubuntu-22.04,cuda-11.8 --runnergroup Default --ephemeral`,
      });
      expect(response.headers['cache-control']).toBe('no-store');
      // GitHub's token lives an hour; its expires_at (with a non-Z offset) comes back in UTC.
      const expiresIn = new Date(response.body.expires_at).getTime() - Date.now();
      expect(expiresIn).toBeGreaterThan(ONE_HOUR_MS - 60_000);
      expect(expiresIn).toBeLessThanOrEqual(ONE_HOUR_MS);
      expect(response.body.expires_at).toMatch(/Z$/);
      expect(tokenCalls() - calls).toBe(1);
      expect(jitCalls()).toBe(jits);
    });

    it("replaces the caller's pending runner when the seed asks for the same name again (step 3)", async () => {
      const first = await provision(alice, SEED_STEP_2).expect(201);
      const second = await provision(alice, SEED_STEP_3).expect(201);

      expect(second.body.runner_id).not.toBe(first.body.runner_id);
      expect(second.body.labels).toEqual(['gpu']);
      expect(second.body.configuration_command).toMatch(/ --name gpu-worker-001 --labels gpu --runnergroup Default --ephemeral$/);
      expect(await runnerRow(first.body.runner_id)).toMatchObject({ status: 'deleted' });
      expect(await runnerRow(second.body.runner_id)).toMatchObject({ status: 'pending', labels: ['gpu'] });
      const live = (await runnerRows('gpu-worker-001')).filter((row) => row.status === 'pending');
      expect(live.map((row) => row.id)).toEqual([second.body.runner_id]);

      const events = await auditRows('gpu-worker-001');
      expect(eventsOf(events, first.body.runner_id).sort()).toEqual(
        ['provision:attempted', 'provision:succeeded', 'replace:succeeded'].sort(),
      );
      expect(eventsOf(events, second.body.runner_id).sort()).toEqual(['provision:attempted', 'provision:succeeded'].sort());
    });

    it('registers the runner in the group the answer names: config.sh gets --runnergroup with its name', async () => {
      const response = await provision(alice, { runner_name: 'grouped-worker', labels: ['build'] }).expect(201);
      expect(response.body.runner_group_id).toBe(1);
      expect(response.body.configuration_command).toContain(' --runnergroup Default ');
      const registered = t.simulator.registerRunner({
        token: response.body.registration_token,
        name: response.body.runner_name,
        runnerGroup: 'Default',
      });
      expect(registered.runner_group_id).toBe(response.body.runner_group_id);
      expect(await runnerRow(response.body.runner_id)).toMatchObject({ runner_group_id: 1 });
    });

    it('issues a token that registers the runner the way ./config.sh does', async () => {
      const response = await provision(alice, { runner_name: 'config-sh-worker', labels: ['build'], ephemeral: false }).expect(
        201,
      );
      const registered = t.simulator.registerRunner({
        token: response.body.registration_token,
        name: response.body.runner_name,
        labels: response.body.labels,
        ephemeral: response.body.ephemeral,
      });
      expect(registered).toMatchObject({ name: 'config-sh-worker', ephemeral: false });
      expect(registered.labels.map((label) => label.name.toLowerCase())).toEqual(['self-hosted', 'linux', 'x64', 'build']);
      expect(() => t.simulator.registerRunner({ token: 'NOT-A-TOKEN', name: 'forged-worker' })).toThrow(/Invalid/);
    });

    it('leaves --ephemeral out when ephemeral is false, and puts it in when ephemeral is left out', async () => {
      const persistent = await provision(alice, { runner_name: 'persistent-worker', labels: ['a', 'b'], ephemeral: false }).expect(
        201,
      );
      expect(persistent.body.ephemeral).toBe(false);
      expect(persistent.body.configuration_command).toBe(
        `./config.sh --url ${persistent.body.github_url} --token ${persistent.body.registration_token} --name persistent-worker --labels a,b --runnergroup Default`,
      );

      const byDefault = await provision(alice, { runner_name: 'default-worker', labels: ['a'] }).expect(201);
      expect(byDefault.body.ephemeral).toBe(true);
      expect(byDefault.body.configuration_command).toMatch(/ --labels a --runnergroup Default --ephemeral$/);
      expect(await runnerRow(byDefault.body.runner_id)).toMatchObject({ ephemeral: true });
    });

    it('trims, lower-cases and de-duplicates the labels, and adds no system labels', async () => {
      const response = await provision(alice, {
        runner_name: 'label-worker',
        labels: [' GPU ', 'gpu', 'Ubuntu-22.04', 'team:ml/x'],
      }).expect(201);
      expect(response.body.labels).toEqual(['gpu', 'ubuntu-22.04', 'team:ml/x']);
      expect(response.body.configuration_command).toContain(' --labels gpu,ubuntu-22.04,team:ml/x ');
      expect((await runnerRow(response.body.runner_id)).labels).toEqual(['gpu', 'ubuntu-22.04', 'team:ml/x']);
    });

    it('records the runner as a pending registration-token runner, shown by id and by name', async () => {
      const created = await provision(alice, { runner_name: 'recorded-worker', labels: ['x'], ephemeral: false }).expect(201);
      const byId = await request(t.server)
        .get(`/api/v1/runners/${created.body.runner_id}`)
        .auth(alice, { type: 'bearer' })
        .expect(200);
      expect(byId.body).toMatchObject({
        runner_id: created.body.runner_id,
        runner_name: 'recorded-worker',
        status: 'pending',
        kind: 'registration_token',
        ephemeral: false,
        labels: ['x'],
        runner_group_id: 1,
        github_runner_id: null,
        owner: 'alice@example.com',
        expires_at: created.body.expires_at,
      });
      expect(byId.body).not.toHaveProperty('registration_token');
      const byName = await request(t.server).get('/api/v1/runners/recorded-worker').auth(alice, { type: 'bearer' }).expect(200);
      expect(byName.body.runner_id).toBe(created.body.runner_id);
    });

    it('records an attempted and a succeeded audit event with the token fingerprint, never the token', async () => {
      const response = await provision(alice, { runner_name: 'audited-worker', labels: ['x', 'y'], ephemeral: false })
        .set('x-request-id', 'req-provision-audit')
        .expect(201);
      const events = await auditRows('audited-worker');
      expect(events.map((event) => [event.action, event.outcome])).toEqual([
        ['provision', 'attempted'],
        ['provision', 'succeeded'],
      ]);
      for (const event of events) {
        expect(event).toMatchObject({
          actor: 'alice@example.com',
          runner_id: response.body.runner_id,
          request_id: 'req-provision-audit',
        });
      }
      expect(events[1].details).toMatchObject({
        labels: ['x', 'y'],
        ephemeral: false,
        runner_group_id: 1,
        token_fingerprint: fingerprint(response.body.registration_token),
      });
      expect(events[1].details.token_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(JSON.stringify(events)).not.toContain(response.body.registration_token);
    });
  });

  describe('names', () => {
    it("answers 409 when the name is another owner's runner, and audits the denial", async () => {
      const alices = await provision(alice, { runner_name: 'contested-worker', labels: ['x'] }).expect(201);
      const calls = tokenCalls();
      const response = await provision(bob, { runner_name: 'contested-worker', labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      expect(response.body.error.message).toMatch(/taken by another runner; choose another runner_name/);
      expect(tokenCalls()).toBe(calls);
      expect(await runnerRow(alices.body.runner_id)).toMatchObject({ status: 'pending' });
      const denial = (await auditRows('contested-worker')).find((event) => event.outcome === 'denied');
      expect(denial).toMatchObject({ actor: 'bob@example.com', action: 'provision', runner_id: null });
      expect(denial?.details.error_code).toBe('RUNNER_NAME_TAKEN');
    });

    it("keeps an hour-old registration-token runner's name from another owner's JIT request", async () => {
      // A registration-token runner has no GitHub id until it is seen on GitHub: that is not an abandoned request.
      const alices = await provision(alice, { runner_name: 'slow-to-configure', labels: ['x'] }).expect(201);
      await t.dataSource.query(`UPDATE runners SET created_at = now() - interval '1 hour' WHERE id = $1`, [alices.body.runner_id]);
      const jit = await request(t.server)
        .post('/api/v1/runners/jit')
        .auth(bob, { type: 'bearer' })
        .send({ runner_name: 'slow-to-configure', labels: ['x'] });
      expect(jit.status).toBe(409);
      expect(await runnerRow(alices.body.runner_id)).toMatchObject({ status: 'pending' });
    });

    it("tells the owner why a JIT request for their pending registration-token runner's name is refused", async () => {
      const mine = await provision(alice, { runner_name: 'token-then-jit', labels: ['x'] }).expect(201);
      const jit = await request(t.server)
        .post('/api/v1/runners/jit')
        .auth(alice, { type: 'bearer' })
        .send({ runner_name: 'token-then-jit', labels: ['x'] });
      expect(jit.status).toBe(409);
      expect(jit.body.error.message).toMatch(/held by your pending registration-token runner; .*delete that runner first/);
      expect(await runnerRow(mine.body.runner_id)).toMatchObject({ status: 'pending' });
    });

    it('answers 409 once the runner is registered on GitHub, and keeps the registered one', async () => {
      const first = await provision(alice, { runner_name: 'registered-worker', labels: ['x'] }).expect(201);
      t.simulator.registerRunner({ token: first.body.registration_token, name: 'registered-worker', labels: ['x'] });
      const calls = tokenCalls();
      const response = await provision(alice, { runner_name: 'registered-worker', labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      expect(response.body.error.message).toMatch(/already registered on GitHub/);
      expect(tokenCalls()).toBe(calls);
      expect(await runnerRow(first.body.runner_id)).toMatchObject({ status: 'pending' });
      expect(t.simulator.findRunnerByName('registered-worker')).toBeTruthy();
    });

    it('answers 409 when GitHub has a runner of that name this service never recorded', async () => {
      const [foreign] = t.simulator.addRunners(1, { namePrefix: 'foreign-worker' });
      const calls = tokenCalls();
      const response = await provision(alice, { runner_name: foreign.name, labels: ['x'] }).expect(409);
      expect(response.body.error.message).toMatch(/already registered on GitHub/);
      expect(tokenCalls()).toBe(calls);
      expect(await runnerRows(foreign.name)).toEqual([]);
      const [denial] = await auditRows(foreign.name);
      expect(denial).toMatchObject({ action: 'provision', outcome: 'denied' });
    });

    it("does not replace the caller's pending JIT runner of the same name", async () => {
      const jit = await request(t.server)
        .post('/api/v1/runners/jit')
        .auth(alice, { type: 'bearer' })
        .send({ runner_name: 'jit-held', labels: ['x'] })
        .expect(201);
      const response = await provision(alice, { runner_name: 'jit-held', labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      expect(response.body.error.message).toMatch(/your pending JIT runner/);
      expect(await runnerRow(jit.body.runner_id)).toMatchObject({ status: 'pending', kind: 'jit' });
    });

    it("does not replace the caller's runner once it is no longer pending", async () => {
      const first = await provision(alice, { runner_name: 'seen-worker', labels: ['x'] }).expect(201);
      await t.dataSource.query(`UPDATE runners SET status = 'offline' WHERE id = $1`, [first.body.runner_id]);
      const response = await provision(alice, { runner_name: 'seen-worker', labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      expect(await runnerRow(first.body.runner_id)).toMatchObject({ status: 'offline' });
    });

    it('answers 409 to a retry while the first request for that name is still waiting for GitHub', async () => {
      t.simulator.injectFault({ method: 'POST', path: REGISTRATION_TOKEN, delayMs: 1_500, times: 1 });
      const first = provision(alice, { runner_name: 'in-flight-worker', labels: ['x'] }).then((response) => response);
      let reserved: RunnerRow[] = [];
      for (let i = 0; i < 100 && reserved.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        reserved = await runnerRows('in-flight-worker');
      }
      expect(reserved).toHaveLength(1);
      const second = await provision(alice, { runner_name: 'in-flight-worker', labels: ['x'] }).expect(409);
      expect(second.body.error.message).toMatch(/still being provisioned/);
      expect((await first).status).toBe(201);
    });
  });

  describe('input rules', () => {
    const valid = { runner_name: 'rule-worker', labels: ['ok'] };

    it.each([
      ['no runner_name', { labels: ['x'] }, 'runner_name', /^runner_name is required: at most 64 characters of A-Z a-z 0-9 \. _ -$/],
      ['a name over 64 characters', { ...valid, runner_name: 'a'.repeat(65) }, 'runner_name', /^runner_name must be at most 64 characters/],
      ['a name with a space', { ...valid, runner_name: 'bad name' }, 'runner_name', /^runner_name must be .*A-Z a-z 0-9 \. _ -$/],
      ['a name that is not a string', { ...valid, runner_name: 42 }, 'runner_name', /^runner_name must be at most 64 characters/],
      ['no labels', { runner_name: 'x' }, 'labels', /^labels must be an array of 1 to 100 labels$/],
      ['an empty label list', { ...valid, labels: [] }, 'labels', /^labels must hold at least 1 label$/],
      [
        'a bad label, by its position',
        { ...valid, labels: ['gpu', 'Ubuntu 22.04'] },
        'labels',
        /^labels\[1\] \("ubuntu 22\.04"\) must be at most 256 characters of letters, digits and \. _ - : \/$/,
      ],
      ['a label with a comma', { ...valid, labels: ['a,b'] }, 'labels', /^labels\[0\] \("a,b"\) must be/],
      ['ephemeral as a string', { ...valid, ephemeral: 'true' }, 'ephemeral', /^ephemeral must be true or false \(a JSON boolean\)/],
      ['ephemeral as a number', { ...valid, ephemeral: 1 }, 'ephemeral', /^ephemeral must be true or false/],
      ['ephemeral as null', { ...valid, ephemeral: null }, 'ephemeral', /^ephemeral must be true or false/],
      ['an unknown field', { ...valid, group: 1 }, 'group', /^group is not a known field; remove it$/],
      ['a JIT-only field', { ...valid, runner_name_prefix: 'x' }, 'runner_name_prefix', /is not a known field/],
    ])('rejects %s with a 400 naming the field, and asks GitHub nothing', async (_case, body, field, message) => {
      const calls = tokenCalls();
      const response = await provision(alice, body).expect(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.message).toMatch(message);
      const forField = response.body.error.details.violations.filter((v: { field: string }) => v.field === field);
      expect(forField).toEqual([{ field, message: expect.stringMatching(message) }]);
      expect(tokenCalls()).toBe(calls);
      expect(await runnerRows('rule-worker')).toEqual([]);
    });

    it('answers an empty body with one message per missing field', async () => {
      const response = await provision(alice, {}).expect(400);
      expect(response.body.error.details.violations).toEqual([
        { field: 'runner_name', message: 'runner_name is required: at most 64 characters of A-Z a-z 0-9 . _ -' },
        { field: 'labels', message: 'labels must be an array of 1 to 100 labels' },
      ]);
    });

    it('documents the fields, the default of ephemeral and the 201 answer in the API description', async () => {
      const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body;
      const schema = document.components.schemas.ProvisionRunnerDto;
      expect(schema.required).toEqual(['runner_name', 'labels']);
      expect(schema.properties.runner_name).toMatchObject({ example: 'gpu-worker-001', maxLength: 64 });
      expect(schema.properties.labels).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
      expect(schema.properties.ephemeral).toMatchObject({ type: 'boolean', default: true });
      const answer = document.components.schemas.ProvisionRunnerResponseDto;
      expect(Object.keys(answer.properties).sort()).toEqual(
        [
          'runner_id',
          'runner_name',
          'registration_token',
          'expires_at',
          'github_url',
          'runner_group_id',
          'ephemeral',
          'labels',
          'configuration_command',
        ].sort(),
      );
      expect(document.paths[PROVISION_PATH].post.responses['403']).toBeDefined();
    });
  });

  describe('when GitHub fails', () => {
    it('answers 502 on a GitHub 5xx, leaving a failed row and a failed audit event, and frees the name', async () => {
      expect(t.simulator.org).toBe('sim-org');
      t.simulator.injectFault({
        method: 'POST',
        path: `/orgs/${t.simulator.org}/actions/runners/registration-token`,
        status: 500,
        times: 1,
      });
      const response = await provision(alice, { runner_name: 'github-broke-worker', labels: ['x'] }).expect(502);
      expect(response.body.error.code).toBe('GITHUB_UNAVAILABLE');
      expect(response.body).not.toHaveProperty('registration_token');
      const [row] = await runnerRows('github-broke-worker');
      expect(row).toMatchObject({ status: 'failed', kind: 'registration_token', failure_code: 'GITHUB_UNAVAILABLE' });
      expect(row.failure_reason).toMatch(/HTTP 500/);
      expect(row.expires_at).toBeNull();
      const events = await auditRows('github-broke-worker');
      expect(events.map((event) => [event.action, event.outcome])).toEqual([
        ['provision', 'attempted'],
        ['provision', 'failed'],
      ]);
      expect(events[1].details).toMatchObject({ error_code: 'GITHUB_UNAVAILABLE', github_status: 500 });

      await provision(alice, { runner_name: 'github-broke-worker', labels: ['x'] }).expect(201);
    });

    it("answers 503 with Retry-After when GitHub's rate limit is exhausted", async () => {
      // A short wait: every call to GitHub waits it out, this file's later tests included.
      t.simulator.injectFault({ method: 'POST', path: REGISTRATION_TOKEN, rateLimit: true, retryAfterSeconds: 1, times: 1 });
      const response = await provision(alice, { runner_name: 'rate-limited-worker', labels: ['x'] }).expect(503);
      expect(response.body.error.code).toBe('GITHUB_RATE_LIMITED');
      expect(response.headers['retry-after']).toBe('1');
      const [row] = await runnerRows('rate-limited-worker');
      expect(row).toMatchObject({ status: 'failed', failure_code: 'GITHUB_RATE_LIMITED' });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    });

    it('answers 502 and records a failed attempt when GitHub cannot be asked about the name (three 5xx: the read and its two retries)', async () => {
      t.simulator.injectFault({ method: 'GET', path: /\/actions\/runners$/, status: 500, times: 3 });
      const calls = tokenCalls();
      const response = await provision(alice, { runner_name: 'lookup-broke-worker', labels: ['x'] }).expect(502);
      expect(response.body.error.code).toBe('GITHUB_UNAVAILABLE');
      expect(tokenCalls()).toBe(calls);
      expect(await runnerRows('lookup-broke-worker')).toEqual([]);
      const events = await auditRows('lookup-broke-worker');
      expect(events.map((event) => [event.action, event.outcome])).toEqual([['provision', 'failed']]);
    });
  });

  describe('secrets', () => {
    // Runs last: by now this file has issued, replaced, refused and failed.
    it('never wrote a registration token, an installation token, a bearer token or the App key to the log or a table', async () => {
      expect(tokens.issued.length).toBeGreaterThan(10);
      expect(t.logs.length).toBeGreaterThan(50);
      const issued = t.simulator.issuedCredentials();
      expect(issued.registrationTokens).toEqual(expect.arrayContaining(tokens.issued));
      const tables = await dumpEveryTable((sql) => t.dataSource.query(sql));
      const secrets = secretsOf(issued, t.config.github.privateKey, [alice, bob]);
      expect(findSecrets([...logHaystacks('service log', t.logs), ...tables], secrets)).toEqual([]);
    });
  });
});

describe('Registration tokens switched off (e2e)', () => {
  let t: TestApp;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp({ runners: { registrationTokensEnabled: false } });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 403 REGISTRATION_TOKENS_DISABLED pointing at JIT, audits the denial and asks GitHub nothing', async () => {
    const response = await request(t.server)
      .post(PROVISION_PATH)
      .auth(alice, { type: 'bearer' })
      .send(SEED_STEP_2)
      .expect(403);
    expect(response.body.error.code).toBe('REGISTRATION_TOKENS_DISABLED');
    expect(response.body.error.message).toMatch(/ENABLE_REGISTRATION_TOKENS=false/);
    expect(response.body.error.message).toMatch(/use POST \/api\/v1\/runners\/jit/);
    expect(t.simulator.requests()).toEqual([]);
    expect(await t.dataSource.query(`SELECT * FROM runners`)).toEqual([]);
    const events: AuditRow[] = await t.dataSource.query(`SELECT * FROM audit_events`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'provision',
      outcome: 'denied',
      actor: 'alice@example.com',
      runner_name: 'gpu-worker-001',
      runner_id: null,
    });
    expect(events[0].details.error_code).toBe('REGISTRATION_TOKENS_DISABLED');
  });

  it('still provisions JIT runners', async () => {
    const response = await request(t.server)
      .post('/api/v1/runners/jit')
      .auth(alice, { type: 'bearer' })
      .send({ runner_name: 'jit-still-works', labels: ['x'] })
      .expect(201);
    expect(response.body.runner_name).toBe('jit-still-works');
  });
});

describe('Registration tokens from a GitHub Enterprise Server (e2e)', () => {
  let t: TestApp;
  let simulator: GithubSimulator;

  beforeAll(async () => {
    simulator = await GithubSimulator.start();
    // GHES serves the REST API under /api/v3 of its web address.
    t = await startTestApp({ simulator, github: { apiUrl: `${simulator.url}/api/v3` } });
  });

  afterAll(async () => {
    await t?.close();
    await simulator?.stop();
  });

  it('points config.sh at the server\'s web address for the org, not at its API', async () => {
    const token = await t.oidc.token({ sub: 'ghes-sub', email: 'ghes@example.com' });
    const response = await request(t.server)
      .post(PROVISION_PATH)
      .auth(token, { type: 'bearer' })
      .send({ runner_name: 'ghes-worker', labels: ['gpu'], ephemeral: false });
    expect(response.status).toBe(201);
    const webUrl = `${simulator.url}/${simulator.org}`;
    expect(response.body.github_url).toBe(webUrl);
    expect(response.body.configuration_command).toBe(
      `./config.sh --url ${webUrl} --token ${response.body.registration_token} --name ghes-worker --labels gpu --runnergroup Default`,
    );
    expect(simulator.requestCount('POST', /\/orgs\/[^/]+\/actions\/runners\/registration-token$/)).toBe(1);
  });
});
