import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { hmacToken, unsignedToken } from './support/oidc.js';
import { dumpEveryTable, findSecrets, logHaystacks, secretsOf } from './support/secrets.js';

const JIT_PATH = '/api/v1/runners/jit';
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
/** The service's GitHub timeout here; faults delay well past it, or well below it. */
const GITHUB_TIMEOUT_MS = 2_000;

/** Polls until `check` holds (bounded: about 5 s), for effects that happen after a response. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

interface RunnerRow {
  id: string;
  name: string;
  status: string;
  github_runner_id: string | number | null;
  owner_subject: string;
  failure_reason: string | null;
  labels: string[];
}

interface AuditRow {
  action: string;
  outcome: string;
  actor: string;
  runner_id: string | null;
  runner_name: string | null;
  request_id: string | null;
  source_ip: string | null;
  details: Record<string, unknown>;
}

describe('JIT runners (e2e)', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    t = await startTestApp({ github: { requestTimeoutMs: GITHUB_TIMEOUT_MS } });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  /** Every JIT config this file's requests were given, to check that none reached the log. */
  const issuedConfigs: string[] = [];

  const provision = (token: string, body: object) =>
    request(t.server)
      .post(JIT_PATH)
      .auth(token, { type: 'bearer' })
      .send(body)
      .on('response', (response: { body?: { encoded_jit_config?: string } }) => {
        if (response.body?.encoded_jit_config) issuedConfigs.push(response.body.encoded_jit_config);
      });

  const generateCalls = () => t.simulator.requests().filter((r) => r.method === 'POST' && GENERATE_JIT.test(r.path));
  /**
   * The generate calls for names with this prefix. A call an earlier test delayed is logged only when
   * its delay ends, so counting all calls could take in one that arrived late.
   */
  const generateCallsFor = (prefix: string) =>
    generateCalls().filter((r) => String((r.body as { name?: unknown } | undefined)?.name).startsWith(`${prefix}-`));

  const runnerRows = (name: string): Promise<RunnerRow[]> =>
    t.dataSource.query(`SELECT * FROM runners WHERE name = $1 ORDER BY created_at`, [name]);

  const auditRows = (name: string): Promise<AuditRow[]> =>
    t.dataSource.query(`SELECT * FROM audit_events WHERE runner_name = $1 ORDER BY occurred_at, action`, [name]);

  describe('provisioning', () => {
    it('issues a JIT config for a named runner with the system labels first', async () => {
      const before = generateCalls().length;
      const response = await provision(alice, {
        runner_name: 'secure-worker-001',
        labels: ['gpu', ' Ubuntu-22.04 ', 'GPU'],
        runner_group_id: 1,
        work_folder: '_work',
      }).expect(201);

      expect(response.body).toEqual({
        runner_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        runner_name: 'secure-worker-001',
        encoded_jit_config: expect.any(String),
        labels: ['self-hosted', 'linux', 'x64', 'gpu', 'ubuntu-22.04'],
        expires_at: expect.any(String),
        run_command: `./run.sh --jitconfig ${response.body.encoded_jit_config}`,
      });
      expect(new Date(response.body.expires_at).getTime()).toBeGreaterThan(Date.now());
      expect(response.headers['cache-control']).toBe('no-store');
      // What ./run.sh --jitconfig reads: base64 of a map from the runner's files to their contents.
      const files = JSON.parse(Buffer.from(response.body.encoded_jit_config, 'base64').toString('utf8'));
      expect(Object.keys(files).sort()).toEqual(['.credentials', '.credentials_rsaparams', '.runner']);
      const runnerFile = JSON.parse(Buffer.from(files['.runner'], 'base64').toString('utf8'));
      expect(JSON.stringify(runnerFile)).toContain('secure-worker-001');

      const calls = generateCalls().slice(before);
      expect(calls).toHaveLength(1);
      expect(calls[0].body).toEqual({
        name: 'secure-worker-001',
        runner_group_id: 1,
        labels: ['self-hosted', 'linux', 'x64', 'gpu', 'ubuntu-22.04'],
        work_folder: '_work',
      });

      const github = t.simulator.findRunnerByName('secure-worker-001');
      const [row] = await runnerRows('secure-worker-001');
      expect(row).toMatchObject({ id: response.body.runner_id, status: 'pending', owner_subject: 'alice-sub' });
      expect(Number(row.github_runner_id)).toBe(github?.id);
    });

    it('generates a name from a prefix: the prefix, "-" and 6 hex characters', async () => {
      const before = generateCalls().length;
      const response = await provision(alice, { runner_name_prefix: 'podman-runner', labels: ['podman', 'linux'] }).expect(
        201,
      );
      expect(response.body.runner_name).toMatch(/^podman-runner-[0-9a-f]{6}$/);
      expect(response.body.labels).toEqual(['self-hosted', 'linux', 'x64', 'podman']);
      const calls = generateCalls().slice(before);
      expect(calls).toHaveLength(1);
      expect(calls[0].body).toMatchObject({ name: response.body.runner_name, labels: response.body.labels });
    });

    it('lists the new runner as pending, and shows it by id and by name', async () => {
      const created = await provision(alice, { runner_name: 'listed-runner', labels: ['x'] }).expect(201);
      const list = await request(t.server).get('/api/v1/runners').auth(alice, { type: 'bearer' }).expect(200);
      const listed = list.body.runners.find((runner: { runner_name: string }) => runner.runner_name === 'listed-runner');
      expect(listed).toMatchObject({
        runner_id: created.body.runner_id,
        status: 'pending',
        kind: 'jit',
        ephemeral: true,
        owner: 'alice@example.com',
        labels: ['self-hosted', 'linux', 'x64', 'x'],
      });
      expect(listed).not.toHaveProperty('encoded_jit_config');

      const byId = await request(t.server).get(`/api/v1/runners/${created.body.runner_id}`).auth(alice, { type: 'bearer' });
      expect(byId.status).toBe(200);
      expect(byId.body.runner_name).toBe('listed-runner');
      const byName = await request(t.server).get('/api/v1/runners/listed-runner').auth(alice, { type: 'bearer' });
      expect(byName.body.runner_id).toBe(created.body.runner_id);
    });

    it('records an attempted and a succeeded audit event with a fingerprint, never the config', async () => {
      const response = await provision(alice, { runner_name: 'audited-runner', labels: ['x'] })
        .set('x-request-id', 'req-audit-1')
        // Without TRUST_PROXY a caller cannot choose the address the audit trail records.
        .set('X-Forwarded-For', '203.0.113.9')
        .expect(201);
      const events = await auditRows('audited-runner');
      expect(events.map((event) => [event.action, event.outcome])).toEqual([
        ['provision_jit', 'attempted'],
        ['provision_jit', 'succeeded'],
      ]);
      for (const event of events) {
        expect(event).toMatchObject({
          actor: 'alice@example.com',
          runner_id: response.body.runner_id,
          request_id: 'req-audit-1',
        });
        expect(event.source_ip).toMatch(/127\.0\.0\.1|::1/);
      }
      expect(events[1].details.jit_config_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      const everything = JSON.stringify(await t.dataSource.query('SELECT * FROM audit_events'));
      expect(everything).not.toContain(response.body.encoded_jit_config);
      const rows = JSON.stringify(await t.dataSource.query('SELECT * FROM runners'));
      expect(rows).not.toContain(response.body.encoded_jit_config);
    });

    it('answers x-request-id on every response and in error bodies', async () => {
      const response = await provision(alice, { labels: ['x'] }).set('x-request-id', 'trace-me-42').expect(400);
      expect(response.headers['x-request-id']).toBe('trace-me-42');
      expect(response.body.request_id).toBe('trace-me-42');
    });
  });

  describe('input rules', () => {
    const valid = { runner_name: 'rule-runner', labels: ['ok'] };

    it.each([
      ['neither name field', { labels: ['x'] }, 'runner_name', /exactly one of runner_name or runner_name_prefix/],
      [
        'both name fields',
        { runner_name: 'a', runner_name_prefix: 'b', labels: ['x'] },
        'runner_name',
        /exactly one of runner_name or runner_name_prefix/,
      ],
      ['a name over 64 characters', { ...valid, runner_name: 'a'.repeat(65) }, 'runner_name', /at most 64 characters/],
      ['a name with a space', { ...valid, runner_name: 'bad name' }, 'runner_name', /A-Z a-z 0-9 \. _ -/],
      ['a name that is not a string', { ...valid, runner_name: 42 }, 'runner_name', /at most 64 characters/],
      [
        'a prefix that leaves no room for the suffix',
        { runner_name_prefix: 'p'.repeat(58), labels: ['x'] },
        'runner_name_prefix',
        /at most 57 characters/,
      ],
      ['labels that are not a list', { ...valid, labels: 'gpu' }, 'labels', /^labels must be an array of 0 to 100 labels$/],
      [
        '101 labels',
        { ...valid, labels: Array.from({ length: 101 }, (_, i) => `l${i}`) },
        'labels',
        /^labels must hold at most 100 labels$/,
      ],
      [
        'a label over 256 characters',
        { ...valid, labels: ['ok', 'a'.repeat(257)] },
        'labels',
        /^labels\[1\] \("a{40}…"\) must be at most 256 characters/,
      ],
      [
        'a label with a comma',
        { ...valid, labels: ['a,b'] },
        'labels',
        /^labels\[0\] \("a,b"\) must be at most 256 characters of letters, digits and \. _ - : \/$/,
      ],
      [
        'a label with a space, after labels that normalise to the same one',
        { ...valid, labels: ['GPU ', ' gpu', 'x y'] },
        'labels',
        /^labels\[2\] \("x y"\) must be at most 256 characters of letters, digits and \. _ - : \/$/,
      ],
      ['a blank label', { ...valid, labels: ['ok', '  '] }, 'labels', /^labels\[1\] is empty$/],
      ['a label that is not a string', { ...valid, labels: ['ok', 7] }, 'labels', /^labels\[1\] must be a string$/],
      ['an unknown field', { ...valid, ephemeral: false }, 'ephemeral', /ephemeral is not a known field/],
      ['a work folder escaping upwards', { ...valid, work_folder: '../etc' }, 'work_folder', /without "\.\." segments/],
      ['a work folder with a ".." inside', { ...valid, work_folder: 'a/../../etc' }, 'work_folder', /without "\.\." segments/],
      ['an absolute work folder', { ...valid, work_folder: '/etc' }, 'work_folder', /a relative path .*not starting with "\/"/],
      ['a fractional runner group', { ...valid, runner_group_id: 1.5 }, 'runner_group_id', /^runner_group_id must be a whole number$/],
      [
        'a runner group sent as a string',
        { ...valid, runner_group_id: '1' },
        'runner_group_id',
        /^runner_group_id must be a whole number \(a JSON number, not a string\)$/,
      ],
      ['a runner group of 0', { ...valid, runner_group_id: 0 }, 'runner_group_id', /^runner_group_id must be at least 1$/],
    ])('rejects %s with a 400 naming the field once', async (_case, body, field, message) => {
      const before = generateCalls().length;
      const response = await provision(alice, body).expect(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.message).toMatch(message);
      expect(response.body.error.details.violations).toEqual(
        expect.arrayContaining([expect.objectContaining({ field, message: expect.stringMatching(message) })]),
      );
      const forField = response.body.error.details.violations.filter((v: { field: string }) => v.field === field);
      expect(forField).toHaveLength(1);
      expect(generateCalls().length).toBe(before);
    });

    it('answers an empty body with one message per missing field', async () => {
      const response = await provision(alice, {}).expect(400);
      expect(response.body.error).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'send exactly one of runner_name or runner_name_prefix',
        details: {
          violations: [{ field: 'runner_name', message: 'send exactly one of runner_name or runner_name_prefix' }],
        },
      });
    });

    it.each([
      ['without labels', { runner_name: 'no-labels-sent' }],
      ['with an empty label list', { runner_name: 'empty-label-list', labels: [] }],
    ])('registers a runner %s with the system labels alone', async (_case, body) => {
      const response = await provision(alice, body).expect(201);
      expect(response.body.labels).toEqual(['self-hosted', 'linux', 'x64']);
      expect(t.simulator.findRunnerByName(body.runner_name)?.labels.map((label) => label.name)).toEqual([
        'self-hosted',
        'linux',
        'x64',
      ]);
    });

    it('says only that a runner group sent as a string must be a JSON number', async () => {
      const response = await provision(alice, { ...valid, runner_group_id: '1' }).expect(400);
      expect(response.body.error.message).toBe('runner_group_id must be a whole number (a JSON number, not a string)');
    });

    it('accepts a relative work folder below the runner folder', async () => {
      const before = generateCalls().length;
      await provision(alice, { runner_name: 'nested-work', labels: ['x'], work_folder: 'jobs/_work..old' }).expect(201);
      expect(generateCalls().slice(before)[0].body).toMatchObject({ work_folder: 'jobs/_work..old' });
    });

    it('rejects a runner group other than the configured one, and audits the denial', async () => {
      const response = await provision(alice, { runner_name: 'wrong-group', labels: ['x'], runner_group_id: 7 }).expect(400);
      const message = 'runner_group_id must be 1: this service registers runners in runner group 1 only';
      expect(response.body.error).toEqual({
        code: 'VALIDATION_FAILED',
        message,
        details: { violations: [{ field: 'runner_group_id', message }] },
      });
      const [denial] = await auditRows('wrong-group');
      expect(denial).toMatchObject({ action: 'provision_jit', outcome: 'denied', actor: 'alice@example.com' });
      expect(denial.details.error_code).toBe('VALIDATION_FAILED');
    });

    it('counts the system labels against GitHub\'s 100', async () => {
      const labels = Array.from({ length: 98 }, (_, i) => `l${i}`);
      const response = await provision(alice, { ...valid, labels }).expect(400);
      expect(response.body.error.message).toMatch(/at most 97 labels besides the 3 system labels/);
      expect(response.body.error.details).toEqual({
        violations: [{ field: 'labels', message: response.body.error.message }],
      });
    });

    it('answers malformed JSON with a 400 in the error shape', async () => {
      const response = await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .set('Content-Type', 'application/json')
        .send('{"runner_name": ')
        .expect(400);
      expect(response.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'The request body is not valid JSON' });
    });
  });

  describe('request bodies', () => {
    const NOT_JSON = { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as JSON with Content-Type: application/json' };
    const body = '{"runner_name":"not-json-runner","labels":["x"]}';

    it.each([
      ['form-encoded (curl -d without -H)', 'application/x-www-form-urlencoded'],
      ['text/plain', 'text/plain'],
      ['multipart', 'multipart/form-data; boundary=x'],
    ])('answers a %s body with 415, names the request id, and provisions nothing', async (_case, contentType) => {
      const before = generateCalls().length;
      const response = await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .set('Content-Type', contentType)
        .set('x-request-id', 'not-json-1')
        .send(body)
        .expect(415);
      expect(response.body).toEqual({ error: NOT_JSON, request_id: 'not-json-1' });
      expect(response.headers['x-request-id']).toBe('not-json-1');
      expect(generateCalls().length).toBe(before);
      expect(await runnerRows('not-json-runner')).toEqual([]);
    });

    it('gives a 415 a request id of its own and logs it', async () => {
      const response = await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .set('Content-Type', 'text/plain')
        .send(body)
        .expect(415);
      expect(response.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.headers['x-request-id']).toBe(response.body.request_id);
      const line = t.logs.find((entry) => entry.includes(response.body.request_id));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ msg: `POST ${JIT_PATH} 415`, content_type: 'text/plain' });
    });

    it('answers a body without a Content-Type with 415', async () => {
      const response = await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .set('Content-Type', '')
        .send(Buffer.from(body))
        .expect(415);
      expect(response.body.error).toEqual(NOT_JSON);
    });

    it.each([
      ['application/json; charset=utf-8', 'json-utf8'],
      ['application/merge-patch+json', 'json-suffix'],
    ])('accepts a JSON body sent as %s', async (contentType, name) => {
      const response = await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .set('Content-Type', contentType)
        .send(JSON.stringify({ runner_name: name, labels: ['x'] }))
        .expect(201);
      expect(response.body.runner_name).toBe(name);
    });

    it('answers a POST with no body at all with the missing fields, not 415', async () => {
      const response = await request(t.server).post(JIT_PATH).auth(alice, { type: 'bearer' }).expect(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error.details.violations.map((v: { field: string }) => v.field)).toEqual(['runner_name']);
    });
  });

  describe('API description', () => {
    it('documents the label and work folder rules and what the 201 answer is', async () => {
      const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body;
      const fields = document.components.schemas.CreateJitRunnerDto.properties;
      expect(fields.labels).not.toHaveProperty('minItems');
      expect(document.components.schemas.CreateJitRunnerDto.required ?? []).not.toContain('labels');
      expect(fields.labels).toMatchObject({
        type: 'array',
        maxItems: 100,
        items: { type: 'string', pattern: '^[A-Za-z0-9._:/-]+$', maxLength: 256 },
      });
      const workFolder = new RegExp(fields.work_folder.pattern);
      expect(['_work', 'jobs/_work'].filter((folder) => workFolder.test(folder))).toEqual(['_work', 'jobs/_work']);
      expect(['/etc', '../etc', 'a/../b', '..'].filter((folder) => workFolder.test(folder))).toEqual([]);
      expect(fields.runner_group_id).toMatchObject({ type: 'integer', minimum: 1 });
      const created = document.paths[JIT_PATH].post.responses['201'];
      expect(created.description).toMatch(/start it with run_command/);
      expect(document.info.description).toMatch(/415 UNSUPPORTED_MEDIA_TYPE/);
    });
  });

  describe('authentication', () => {
    it.each([
      ['no token', async () => undefined, 'UNAUTHENTICATED'],
      ['an expired token', () => t.oidc.token({ sub: 'alice-sub' }, { expiresIn: -600 }), 'TOKEN_EXPIRED'],
      ['a token for another audience', () => t.oidc.token({ sub: 'alice-sub' }, { audience: 'other-service' }), 'TOKEN_INVALID'],
      ['a token from another issuer', () => t.oidc.token({ sub: 'alice-sub' }, { issuer: 'https://evil.example.com' }), 'TOKEN_INVALID'],
      ['an alg:none token', async () => unsignedToken({ sub: 'alice-sub', iss: t.oidc.issuer, aud: t.oidc.audience, exp: Math.floor(Date.now() / 1000) + 300 }), 'TOKEN_INVALID'],
      ['an HS256 token', () => hmacToken({ sub: 'alice-sub', iss: t.oidc.issuer, aud: t.oidc.audience, exp: Math.floor(Date.now() / 1000) + 300 }, 'secret'), 'TOKEN_INVALID'],
      ['a token signed by an unknown key', () => t.oidc.token({ sub: 'alice-sub' }, { signWith: 'unknown-key' }), 'TOKEN_INVALID'],
      ['a token without exp', () => t.oidc.token({ sub: 'alice-sub' }, { noExp: true }), 'TOKEN_INVALID'],
    ])('answers %s with 401 and provisions nothing', async (_case, makeToken, code) => {
      const token = await makeToken();
      const before = generateCalls().length;
      const call = request(t.server).post(JIT_PATH).send({ runner_name: 'never-made', labels: ['x'] });
      if (token) call.auth(token, { type: 'bearer' });
      const response = await call.expect(401);
      expect(response.body.error.code).toBe(code);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="runner-token-service"/);
      if (token) expect(JSON.stringify(response.body)).not.toContain(token);
      expect(generateCalls().length).toBe(before);
      expect(await runnerRows('never-made')).toEqual([]);
    });

    it('keeps health and the API description public', async () => {
      await request(t.server).get('/health').expect(200);
      await request(t.server).get('/docs/openapi.json').expect(200);
    });
  });

  describe('ownership', () => {
    it("answers 404 for another owner's runner, by id and by name, and leaves it out of their list", async () => {
      const created = await provision(alice, { runner_name: 'alices-runner', labels: ['x'] }).expect(201);
      for (const path of [created.body.runner_id, 'alices-runner']) {
        const response = await request(t.server).get(`/api/v1/runners/${path}`).auth(bob, { type: 'bearer' }).expect(404);
        expect(response.body.error.code).toBe('RUNNER_NOT_FOUND');
      }
      const missing = await request(t.server).get('/api/v1/runners/no-such-runner').auth(bob, { type: 'bearer' }).expect(404);
      expect(missing.body.error.code).toBe('RUNNER_NOT_FOUND');
      const list = await request(t.server).get('/api/v1/runners').auth(bob, { type: 'bearer' }).expect(200);
      expect(list.body.runners.map((runner: { runner_name: string }) => runner.runner_name)).not.toContain('alices-runner');
    });

    it("answers 409 when the name is another owner's runner, and audits the denial", async () => {
      await provision(alice, { runner_name: 'contested', labels: ['x'] }).expect(201);
      const before = generateCalls().length;
      const response = await provision(bob, { runner_name: 'contested', labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      expect(generateCalls().length).toBe(before);
      const denial = (await auditRows('contested')).find((event) => event.outcome === 'denied');
      expect(denial).toMatchObject({ actor: 'bob@example.com', action: 'provision_jit' });
    });

    it('replaces the caller\'s own pending runner when asked again for the same name', async () => {
      const first = await provision(alice, { runner_name: 'retry-me', labels: ['x'] }).expect(201);
      const firstGithubId = t.simulator.findRunnerByName('retry-me')?.id;
      const second = await provision(alice, { runner_name: 'retry-me', labels: ['x'] }).expect(201);

      expect(second.body.runner_id).not.toBe(first.body.runner_id);
      expect(second.body.encoded_jit_config).not.toBe(first.body.encoded_jit_config);
      const onGithub = t.simulator.findRunnerByName('retry-me');
      expect(onGithub?.id).not.toBe(firstGithubId);
      expect(t.simulator.runners().filter((runner) => runner.name === 'retry-me')).toHaveLength(1);
      const rows = await runnerRows('retry-me');
      expect(rows.map((row) => row.status)).toEqual(['deleted', 'pending']);
      const events = await t.dataSource.query(
        `SELECT action, outcome, runner_id FROM audit_events WHERE runner_name = 'retry-me' ORDER BY occurred_at, id`,
      );
      const firstEvents = events.filter((event: AuditRow) => event.runner_id === first.body.runner_id);
      const secondEvents = events.filter((event: AuditRow) => event.runner_id === second.body.runner_id);
      expect(firstEvents.map((event: AuditRow) => `${event.action}:${event.outcome}`).sort()).toEqual(
        ['provision_jit:attempted', 'provision_jit:succeeded', 'replace:succeeded'].sort(),
      );
      expect(secondEvents.map((event: AuditRow) => `${event.action}:${event.outcome}`).sort()).toEqual(
        ['provision_jit:attempted', 'provision_jit:succeeded'].sort(),
      );
    });

    it('does not replace the caller\'s runner once it has connected to GitHub', async () => {
      await provision(alice, { runner_name: 'already-running', labels: ['x'] }).expect(201);
      const onGithub = t.simulator.findRunnerByName('already-running');
      t.simulator.setRunnerStatus(onGithub!.id, { status: 'online' });
      const response = await provision(alice, { runner_name: 'already-running', labels: ['x'] }).expect(409);
      expect(response.body.error.message).toMatch(/already connected/);
      expect(t.simulator.findRunnerByName('already-running')?.id).toBe(onGithub!.id);
    });

    it('answers 409 to a retry while the first request for that name is still waiting for GitHub', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 1_500, times: 1 });
      const first = provision(alice, { runner_name: 'in-flight', labels: ['x'] }).then((response) => response);
      let reserved: RunnerRow[] = [];
      for (let i = 0; i < 100 && reserved.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        reserved = await runnerRows('in-flight');
      }
      expect(reserved).toHaveLength(1);
      const second = await provision(alice, { runner_name: 'in-flight', labels: ['x'] }).expect(409);
      expect(second.body.error.message).toMatch(/still being provisioned/);
      expect((await first).status).toBe(201);
    });

    it('answers 409 when GitHub already has a runner of that name that this service did not create', async () => {
      const [foreign] = t.simulator.addRunners(1, { namePrefix: 'foreign' });
      const response = await provision(alice, { runner_name: foreign.name, labels: ['x'] }).expect(409);
      expect(response.body.error.code).toBe('RUNNER_NAME_TAKEN');
      const [row] = await runnerRows(foreign.name);
      expect(row.status).toBe('failed');
      expect(t.simulator.findRunnerByName(foreign.name)?.id).toBe(foreign.id);
    });
  });

  describe('when GitHub fails', () => {
    it('answers 502 with GITHUB_UNAVAILABLE on a 5xx, leaving a failed row and a failure audit event', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 500, times: 1 });
      const response = await provision(alice, { runner_name: 'github-broke', labels: ['x'] }).expect(502);
      expect(response.body.error.code).toBe('GITHUB_UNAVAILABLE');
      expect(response.body.request_id).toEqual(expect.any(String));
      const [row] = await runnerRows('github-broke');
      expect(row.status).toBe('failed');
      expect(row.failure_reason).toMatch(/HTTP 500/);
      const outcomes = (await auditRows('github-broke')).map((event) => event.outcome);
      expect(outcomes).toEqual(['attempted', 'failed']);
    });

    it('removes the runner GitHub created when its answer was lost, and lets the name be used again', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 502, afterHandling: true, times: 1 });
      await provision(alice, { runner_name: 'lost-answer', labels: ['x'] }).expect(502);
      expect(t.simulator.findRunnerByName('lost-answer')).toBeFalsy();
      const failure = (await auditRows('lost-answer')).find((event) => event.outcome === 'failed');
      expect(failure?.details.orphan).toBe('removed');
      await provision(alice, { runner_name: 'lost-answer', labels: ['x'] }).expect(201);
    });

    it('answers 504 with GITHUB_TIMEOUT, and a retry recovers the name once GitHub created the runner late', async () => {
      // GitHub handles the request only after our timeout: the orphan appears after we looked for it.
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: GITHUB_TIMEOUT_MS + 500, times: 1 });
      const response = await provision(alice, { runner_name: 'slow-github', labels: ['x'] }).expect(504);
      expect(response.body.error.code).toBe('GITHUB_TIMEOUT');
      const [row] = await runnerRows('slow-github');
      expect(row.status).toBe('failed');
      expect(await eventually(() => Boolean(t.simulator.findRunnerByName('slow-github')))).toBe(true);
      const late = t.simulator.findRunnerByName('slow-github');

      await provision(alice, { runner_name: 'slow-github', labels: ['x'] }).expect(201);
      const onGithub = t.simulator.runners().filter((runner) => runner.name === 'slow-github');
      expect(onGithub).toHaveLength(1);
      expect(onGithub[0].id).not.toBe(late?.id);
    });

    it('picks a new suffix when GitHub already has the prefixed name', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 409, body: { message: 'Already exists - A runner with the name x already exists.' }, times: 1 });
      const before = generateCallsFor('collide').length;
      const response = await provision(alice, { runner_name_prefix: 'collide', labels: ['x'] }).expect(201);
      expect(generateCallsFor('collide').length - before).toBe(2);
      const rows: RunnerRow[] = await t.dataSource.query(`SELECT * FROM runners WHERE name LIKE 'collide-%' ORDER BY created_at`);
      expect(rows.map((row) => row.status)).toEqual(['failed', 'pending']);
      expect(rows[1].name).toBe(response.body.runner_name);
    });

    it("never removes somebody else's runner of the same name when GitHub fails", async () => {
      const [online] = t.simulator.addRunners(1, { namePrefix: 'not-ours', status: 'online' });
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 503, times: 1 });
      await provision(alice, { runner_name: online.name, labels: ['x'] }).expect(502);
      expect(t.simulator.findRunnerByName(online.name)?.id).toBe(online.id);
      const failure = (await auditRows(online.name)).find((event) => event.outcome === 'failed');
      expect(failure?.details.orphan).toBe('not-ours');
    });

    it('tells a never-connected JIT runner with other labels apart from the one it asked for', async () => {
      // A fresh JIT runner GitHub holds under the name, registered by someone else with other labels.
      await provision(bob, { runner_name: 'lookalike', labels: ['other'] }).expect(201);
      await t.dataSource.query(`UPDATE runners SET status = 'deleted' WHERE name = 'lookalike'`);
      const theirs = t.simulator.findRunnerByName('lookalike');
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 503, times: 1 });
      await provision(alice, { runner_name: 'lookalike', labels: ['x'] }).expect(502);
      expect(t.simulator.findRunnerByName('lookalike')?.id).toBe(theirs?.id);
      const failure = (await auditRows('lookalike')).find((event) => event.outcome === 'failed');
      expect(failure?.details.orphan).toBe('not-ours');
    });

    it('frees a name held by an attempt that never finished (a crash before GitHub answered)', async () => {
      await t.dataSource.query(
        `INSERT INTO runners (name, kind, status, ephemeral, labels, runner_group_id, owner_issuer, owner_subject, owner_name, created_at, updated_at)
         VALUES ('crashed', 'jit', 'pending', true, ARRAY['self-hosted','linux','x64','x'], 1, $1, 'carol-sub', 'carol', now() - interval '10 minutes', now() - interval '10 minutes')`,
        [t.oidc.issuer],
      );
      await provision(alice, { runner_name: 'crashed', labels: ['x'] }).expect(201);
      const rows = await runnerRows('crashed');
      expect(rows.map((row) => [row.owner_subject, row.status])).toEqual([
        ['carol-sub', 'failed'],
        ['alice-sub', 'pending'],
      ]);
      const abandoned = (await auditRows('crashed')).find((event) => event.details.error_code === 'REQUEST_ABANDONED');
      expect(abandoned).toMatchObject({ outcome: 'failed' });
    });

    it('removes the runner GitHub created before its answer timed out', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: GITHUB_TIMEOUT_MS + 1_000, afterHandling: true, times: 1 });
      await provision(alice, { runner_name: 'created-then-slow', labels: ['x'] }).expect(504);
      expect(t.simulator.findRunnerByName('created-then-slow')).toBeFalsy();
      const failure = (await auditRows('created-then-slow')).find((event) => event.outcome === 'failed');
      expect(failure?.details).toMatchObject({ error_code: 'GITHUB_TIMEOUT', orphan: 'removed' });
    });

    it('recovers the name on the next try when the orphan could not be looked up at first', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 502, afterHandling: true, times: 1 });
      t.simulator.injectFault({ method: 'GET', path: /\/actions\/runners$/, status: 500, times: 3 });
      await provision(alice, { runner_name: 'orphan-later', labels: ['x'] }).expect(502);
      const orphan = t.simulator.findRunnerByName('orphan-later');
      expect(orphan).toBeTruthy();
      const retry = await provision(alice, { runner_name: 'orphan-later', labels: ['x'] }).expect(201);
      const now = t.simulator.findRunnerByName('orphan-later');
      expect(now?.id).not.toBe(orphan?.id);
      expect(retry.body.runner_name).toBe('orphan-later');
    });

    it("answers 503 with Retry-After when GitHub's rate limit is exhausted", async () => {
      // A short wait: every call to GitHub waits it out, this file's later tests included.
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, rateLimit: true, retryAfterSeconds: 1, times: 1 });
      const response = await provision(alice, { runner_name: 'rate-limited', labels: ['x'] }).expect(503);
      expect(response.body.error.code).toBe('GITHUB_RATE_LIMITED');
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body.error.details.retry_after_seconds).toBe(1);
      const [row] = await runnerRows('rate-limited');
      expect(row).toMatchObject({ status: 'failed', failure_code: 'GITHUB_RATE_LIMITED' });
      const outcomes = (await auditRows('rate-limited')).map((event) => event.outcome);
      expect(outcomes).toEqual(['attempted', 'failed']);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    });

    it('answers 502 with GITHUB_PERMISSION_DENIED when the App lacks the runner permission', async () => {
      t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, status: 403, body: { message: 'Resource not accessible by integration' }, times: 1 });
      const response = await provision(alice, { runner_name: 'no-permission', labels: ['x'] }).expect(502);
      expect(response.body.error.code).toBe('GITHUB_PERMISSION_DENIED');
      // The caller cannot fix the App's permissions: it is told that much; the operator finds which in the log.
      expect(response.body.error.message).toMatch(/an operator must fix the service's GitHub App setup/);
      expect(JSON.stringify(response.body)).not.toMatch(/Self-hosted runners|Resource not accessible|sim-org/);
      const logged = t.logs.find((line) => line.includes('Self-hosted runners') && line.includes('Resource not accessible'));
      expect(logged).toContain(response.body.request_id);
      const [row] = await runnerRows('no-permission');
      expect(row).toMatchObject({ status: 'failed', failure_code: 'GITHUB_PERMISSION_DENIED' });
      const failure = (await auditRows('no-permission')).find((event) => event.outcome === 'failed');
      expect(failure?.details).toMatchObject({ error_code: 'GITHUB_PERMISSION_DENIED', github_status: 403 });
    });
  });

  describe('GitHub App authentication', () => {
    it('requests one installation token and reuses it for later calls', async () => {
      const tokenRequests = () =>
        t.simulator.requests().filter((r) => r.method === 'POST' && /\/access_tokens$/.test(r.path)).length;
      await provision(alice, { runner_name: 'token-reuse-1', labels: ['x'] }).expect(201);
      const afterFirst = tokenRequests();
      for (let i = 2; i <= 5; i++) await provision(alice, { runner_name: `token-reuse-${i}`, labels: ['x'] }).expect(201);
      expect(afterFirst).toBe(1);
      expect(tokenRequests()).toBe(1);
    });

    it('gets a new installation token when GitHub revoked the cached one, and the request still succeeds', async () => {
      await provision(alice, { runner_name: 'before-revoke', labels: ['x'] }).expect(201);
      const tokensBefore = t.simulator.requestCount('POST', /\/access_tokens$/);
      t.simulator.revokeInstallationTokens();
      await provision(alice, { runner_name: 'after-revoke', labels: ['x'] }).expect(201);
      expect(t.simulator.requestCount('POST', /\/access_tokens$/)).toBe(tokensBefore + 1);
      expect(t.simulator.findRunnerByName('after-revoke')).toBeTruthy();
    });
  });

  describe('concurrency', () => {
    it('provisions many runners at once, each with its own name, row and GitHub runner', async () => {
      const before = generateCallsFor('burst').length;
      const responses = await Promise.all(
        Array.from({ length: 12 }, () => provision(alice, { runner_name_prefix: 'burst', labels: ['burst'] })),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(12).fill(201));
      const names = responses.map((response) => response.body.runner_name);
      expect(new Set(names).size).toBe(12);
      expect(generateCallsFor('burst').length - before).toBe(12);
      const rows: { status: string }[] = await t.dataSource.query(
        `SELECT status FROM runners WHERE name = ANY($1::text[])`,
        [names],
      );
      expect(rows.map((row) => row.status)).toEqual(Array(12).fill('pending'));
    });

    it('gives a contested name to one owner only when two ask at once', async () => {
      const [first, second] = await Promise.all([
        provision(alice, { runner_name: 'race-for-it', labels: ['x'] }),
        provision(bob, { runner_name: 'race-for-it', labels: ['x'] }),
      ]);
      expect([first.status, second.status].sort()).toEqual([201, 409]);
      const live = await t.dataSource.query(`SELECT * FROM runners WHERE name = 'race-for-it' AND status = 'pending'`);
      expect(live).toHaveLength(1);
      const loser = first.status === 409 ? 'alice@example.com' : 'bob@example.com';
      const denials = (await auditRows('race-for-it')).filter((event) => event.outcome === 'denied');
      expect(denials.map((event) => event.actor)).toEqual([loser]);
      expect(t.simulator.runners().filter((runner) => runner.name === 'race-for-it')).toHaveLength(1);
    });
  });

  describe('secrets', () => {
    // Runs last: by now this file has provisioned, failed, retried, raced and been refused.
    it('never wrote a JIT config, an installation token, a bearer token or the App key to the log or a table', async () => {
      expect(issuedConfigs.length).toBeGreaterThan(20);
      expect(t.logs.length).toBeGreaterThan(100);
      const issued = t.simulator.issuedCredentials();
      expect(issued.jitConfigs).toEqual(expect.arrayContaining(issuedConfigs));
      const tables = await dumpEveryTable((sql) => t.dataSource.query(sql));
      const secrets = secretsOf(issued, t.config.github.privateKey, [alice, bob]);
      expect(findSecrets([...logHaystacks('service log', t.logs), ...tables], secrets)).toEqual([]);
    });
  });
});
