import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Ajv, type ValidateFunction } from 'ajv';
import { GithubSimulator, type SimulatedRunner } from '../src/github/simulator/github-simulator.js';

// The simulator must answer with the shapes GitHub's own OpenAPI description promises.
const EXTRACT_ID = 'https://github-openapi-extract.test/schema.json';
const extract = JSON.parse(
  readFileSync(new URL('./fixtures/github-openapi-extract.json', import.meta.url), 'utf8'),
) as OpenApiDocument;

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: Record<string, Record<string, unknown>>;
}

const ajv = new Ajv({ strict: false, allErrors: true });
// The only formats the extract uses; ajv-formats would be one more dependency for three checks.
ajv.addFormat('date-time', (value: string) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)));
ajv.addFormat('uri', (value: string) => URL.canParse(value));
ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) });
ajv.addSchema({ ...extract, $id: EXTRACT_ID });

function resolveRef(ref: string): Record<string, unknown> {
  const [, kind, name] = ref.replace(/^#\//, '').split('/');
  return extract.components[kind][name] as Record<string, unknown>;
}

/** Points local `#/components/...` refs of an inline schema at the registered extract. */
function absolutize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(absolutize);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' && child.startsWith('#/') ? `${EXTRACT_ID}${child}` : absolutize(child),
    ]),
  );
}

const validators = new Map<string, ValidateFunction>();
function responseValidator(path: string, method: string, status: number): ValidateFunction {
  const key = `${method} ${path} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    let response = extract.paths[path]?.[method]?.responses[String(status)] as Record<string, unknown> | undefined;
    if (!response) throw new Error(`The description documents no ${status} for ${key}`);
    if (typeof response.$ref === 'string') response = resolveRef(response.$ref);
    const content = response.content as Record<string, { schema: unknown }>;
    validate = ajv.compile(absolutize(content['application/json'].schema) as object);
    validators.set(key, validate);
  }
  return validate;
}

function expectMatchesDescription(path: string, method: string, status: number, body: unknown): void {
  const validate = responseValidator(path, method, status);
  const valid = validate(body);
  if (!valid) {
    throw new Error(`${method.toUpperCase()} ${path} ${status} does not match GitHub's schema: ${ajv.errorsText(validate.errors)}`);
  }
}

const P = {
  accessTokens: '/app/installations/{installation_id}/access_tokens',
  registrationToken: '/orgs/{org}/actions/runners/registration-token',
  jit: '/orgs/{org}/actions/runners/generate-jitconfig',
  runners: '/orgs/{org}/actions/runners',
  runner: '/orgs/{org}/actions/runners/{runner_id}',
  groups: '/orgs/{org}/actions/runner-groups',
  group: '/orgs/{org}/actions/runner-groups/{runner_group_id}',
};

function signAppJwt(privateKeyPem: string, claims: Record<string, unknown>): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), privateKeyPem).toString('base64url')}`;
}

function appJwtClaims(iss: string | number): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iat: now - 60, exp: now + 540, iss };
}

interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

describe('GitHub simulator (contract with GitHub OpenAPI description)', () => {
  let sim: GithubSimulator;
  let token: string;
  let orgUrl: string;

  async function call<T = any>(
    method: string,
    url: string,
    options: { body?: unknown; auth?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'runner-token-service-tests',
      ...options.headers,
    };
    const auth = options.auth === undefined ? `token ${token}` : options.auth;
    if (auth !== null) headers.authorization = auth;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url.startsWith('http') ? url : `${sim.url}${url}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function createJitRunner(name: string, labels = ['self-hosted', 'linux', 'x64', 'gpu']): Promise<Answer> {
    return call('POST', `${orgUrl}/actions/runners/generate-jitconfig`, {
      body: { name, runner_group_id: 1, labels },
    });
  }

  async function issueToken(target: GithubSimulator = sim): Promise<Answer> {
    const answer = await fetch(`${target.url}/app/installations/${target.installationId}/access_tokens`, {
      method: 'POST',
      headers: {
        'user-agent': 'runner-token-service-tests',
        authorization: `Bearer ${signAppJwt(target.privateKeyPem, appJwtClaims(target.appId))}`,
      },
    });
    return { status: answer.status, headers: answer.headers, body: await answer.json() };
  }

  beforeAll(async () => {
    sim = await GithubSimulator.start();
    orgUrl = `/orgs/${sim.org}`;
    token = (await issueToken()).body.token;
  });

  afterAll(async () => {
    await sim.stop();
  });

  beforeEach(() => {
    sim.reset();
  });

  describe('installation access tokens', () => {
    it('issues a long ghs_ token for a JWT signed with the App key, valid for an hour', async () => {
      const answer = await call('POST', `/app/installations/${sim.installationId}/access_tokens`, {
        auth: `Bearer ${signAppJwt(sim.privateKeyPem, appJwtClaims(Number(sim.appId)))}`,
      });

      expect(answer.status).toBe(201);
      expectMatchesDescription(P.accessTokens, 'post', 201, answer.body);
      expect(answer.body.token).toMatch(/^ghs_[A-Za-z0-9]+$/);
      expect(answer.body.token.length).toBeGreaterThan(40);
      const lifetimeMs = Date.parse(answer.body.expires_at) - Date.now();
      expect(lifetimeMs).toBeGreaterThan(55 * 60_000);
      expect(lifetimeMs).toBeLessThanOrEqual(60 * 60_000);
      expect(answer.body.permissions).toEqual({ organization_self_hosted_runners: 'write' });

      const usable = await call('GET', `${orgUrl}/actions/runners`, { auth: `Bearer ${answer.body.token}` });
      expect(usable.status).toBe(200);
    });

    it('answers 401 "A JSON web token could not be decoded" for a JWT signed by another key', async () => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const answer = await call('POST', `/app/installations/${sim.installationId}/access_tokens`, {
        auth: `Bearer ${signAppJwt(privateKey, appJwtClaims(sim.appId))}`,
      });

      expect(answer.status).toBe(401);
      expectMatchesDescription(P.accessTokens, 'post', 401, answer.body);
      expect(answer.body.message).toBe('A JSON web token could not be decoded');
    });

    it('answers 401 for a JWT naming another App, an expired JWT and one that lives over 10 minutes', async () => {
      const now = Math.floor(Date.now() / 1000);
      const bad = [
        appJwtClaims('999'),
        { iat: now - 700, exp: now - 100, iss: sim.appId },
        { iat: now - 60, exp: now + 1200, iss: sim.appId },
      ];
      for (const claims of bad) {
        const answer = await call('POST', `/app/installations/${sim.installationId}/access_tokens`, {
          auth: `Bearer ${signAppJwt(sim.privateKeyPem, claims)}`,
        });
        expect(answer.status).toBe(401);
        expectMatchesDescription(P.accessTokens, 'post', 401, answer.body);
      }
    });

    it('answers 404 for an installation the App does not have', async () => {
      const answer = await call('POST', `/app/installations/${sim.installationId + 1}/access_tokens`, {
        auth: `Bearer ${signAppJwt(sim.privateKeyPem, appJwtClaims(sim.appId))}`,
      });

      expect(answer.status).toBe(404);
      expectMatchesDescription(P.accessTokens, 'post', 404, answer.body);
    });
  });

  describe('installation token checks on runner endpoints', () => {
    it('answers 401 without a token, with an unknown token and with a revoked one', async () => {
      const missing = await call('GET', `${orgUrl}/actions/runners`, { auth: null });
      expect(missing.status).toBe(401);
      expect(missing.body.message).toBe('Requires authentication');

      const unknown = await call('GET', `${orgUrl}/actions/runners`, { auth: 'token ghs_not-a-real-token' });
      expect(unknown.status).toBe(401);
      expect(unknown.body.message).toBe('Bad credentials');

      sim.revokeInstallationTokens();
      const revoked = await call('GET', `${orgUrl}/actions/runners`);
      expect(revoked.status).toBe(401);
      expect(revoked.body.message).toBe('Bad credentials');
      token = (await issueToken()).body.token;
    });

    it('answers 401 Bad credentials once an installation token has expired', async () => {
      const shortLived = await GithubSimulator.start({ tokenLifetimeSeconds: 0 });
      try {
        const issued = await issueToken(shortLived);
        const answer = await fetch(`${shortLived.url}/orgs/${shortLived.org}/actions/runners`, {
          headers: { 'user-agent': 'runner-token-service-tests', authorization: `Bearer ${issued.body.token}` },
        });

        expect(issued.status).toBe(201);
        expect(answer.status).toBe(401);
        expect(await answer.json()).toMatchObject({ message: 'Bad credentials' });
      } finally {
        await shortLived.stop();
      }
    });

    it('refuses a request without a User-Agent with 403, like GitHub', async () => {
      const { status, body } = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = httpRequest(`${sim.url}${orgUrl}/actions/runners`, { headers: { authorization: `token ${token}` } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });

      expect(status).toBe(403);
      expect(body.message).toMatch(/User-Agent/);
    });

    it('sends GitHub rate-limit and request-id headers', async () => {
      const answer = await call('GET', `${orgUrl}/actions/runners`);

      for (const name of ['limit', 'remaining', 'used', 'reset']) {
        expect(answer.headers.get(`x-ratelimit-${name}`)).toMatch(/^\d+$/);
      }
      expect(answer.headers.get('x-ratelimit-resource')).toBe('core');
      expect(answer.headers.get('x-github-request-id')).toBeTruthy();
    });
  });

  describe('registration tokens', () => {
    it('issues an upper-case token that expires in an hour, with an offset timestamp', async () => {
      const answer = await call('POST', `${orgUrl}/actions/runners/registration-token`);

      expect(answer.status).toBe(201);
      expectMatchesDescription(P.registrationToken, 'post', 201, answer.body);
      expect(answer.body.token).toMatch(/^[A-Z0-9]{29}$/);
      expect(answer.body.expires_at).toMatch(/\.\d{3}[+-]\d{2}:\d{2}$/);
      const lifetimeMs = Date.parse(answer.body.expires_at) - Date.now();
      expect(lifetimeMs).toBeGreaterThan(55 * 60_000);
      expect(lifetimeMs).toBeLessThanOrEqual(60 * 60_000);
    });

    it('answers 404 for an org the installation cannot see', async () => {
      const answer = await call('POST', '/orgs/someone-else/actions/runners/registration-token');

      expect(answer.status).toBe(404);
      expect(answer.body.message).toBe('Not Found');
    });
  });

  describe('runner groups', () => {
    it('lists the default group', async () => {
      const answer = await call('GET', `${orgUrl}/actions/runner-groups`);

      expect(answer.status).toBe(200);
      expectMatchesDescription(P.groups, 'get', 200, answer.body);
      expect(answer.body.runner_groups).toEqual([expect.objectContaining({ id: 1, name: 'Default', default: true })]);
    });

    it('answers one group by id, and 404 for a group the org does not have', async () => {
      const created = await call('POST', '/_simulator/runner-groups', { body: { name: 'Team A' } });
      expect(created.status).toBe(201);

      const answer = await call('GET', `${orgUrl}/actions/runner-groups/${created.body.id}`);
      const missing = await call('GET', `${orgUrl}/actions/runner-groups/999`);

      expect(answer.status).toBe(200);
      expectMatchesDescription(P.group, 'get', 200, answer.body);
      expect(answer.body).toEqual(expect.objectContaining({ id: created.body.id, name: 'Team A', default: false }));
      expect(missing.status).toBe(404);
    });

    it('creates JIT runners in a group it has, and config.sh registers into a group by name', async () => {
      const group = (await call('POST', '/_simulator/runner-groups', { body: { name: 'builds' } })).body;
      const jit = await call('POST', `${orgUrl}/actions/runners/generate-jitconfig`, {
        body: { name: 'grouped-jit', runner_group_id: group.id, labels: ['self-hosted'] },
      });
      const registrationToken = (await call('POST', `${orgUrl}/actions/runners/registration-token`)).body.token;
      const register = (name: string, runnerGroup: string) =>
        call('POST', '/_simulator/runners/register', {
          body: { token: registrationToken, name, runner_group: runnerGroup },
        });
      const registered = await register('grouped-legacy', 'builds');
      const unknownGroup = await register('lost-legacy', 'nobody-made-this');

      expect(jit.status).toBe(201);
      expect(jit.body.runner.runner_group_id).toBe(group.id);
      expect(registered.body.runner_group_id).toBe(group.id);
      expect(unknownGroup.status).toBe(422);
    });
  });

  describe('just-in-time runners', () => {
    it('creates an offline ephemeral runner with exactly the labels sent and a unique encoded config', async () => {
      const first = await createJitRunner('jit-1', ['self-hosted', 'linux', 'x64', 'gpu']);
      const second = await createJitRunner('jit-2', ['self-hosted', 'linux', 'x64', 'gpu']);

      expect(first.status).toBe(201);
      expectMatchesDescription(P.jit, 'post', 201, first.body);
      expect(first.body.runner).toMatchObject({
        name: 'jit-1',
        os: 'unknown',
        status: 'offline',
        busy: false,
        ephemeral: true,
        runner_group_id: 1,
      });
      expect(first.body.runner.labels.map((l: { name: string }) => l.name)).toEqual(['self-hosted', 'linux', 'x64', 'gpu']);
      expect(first.body.runner.labels.find((l: { name: string }) => l.name === 'gpu').type).toBe('custom');

      const files = JSON.parse(Buffer.from(first.body.encoded_jit_config, 'base64').toString('utf8'));
      expect(Object.keys(files).sort()).toEqual(['.credentials', '.credentials_rsaparams', '.runner']);
      const runnerFile = JSON.parse(Buffer.from(files['.runner'], 'base64').toString('utf8'));
      expect(runnerFile).toMatchObject({ AgentId: String(first.body.runner.id), AgentName: 'jit-1', WorkFolder: '_work' });
      expect(second.body.encoded_jit_config).not.toBe(first.body.encoded_jit_config);
      expect(second.body.runner.id).toBeGreaterThan(first.body.runner.id);

      const fetched = await call('GET', `${orgUrl}/actions/runners/${first.body.runner.id}`);
      expect(fetched.status).toBe(200);
      expectMatchesDescription(P.runner, 'get', 200, fetched.body);
      expect(fetched.body).toEqual(first.body.runner);
      expect(sim.requests().find((r) => r.path.endsWith('/generate-jitconfig'))?.body).toEqual({
        name: 'jit-1',
        runner_group_id: 1,
        labels: ['self-hosted', 'linux', 'x64', 'gpu'],
      });
    });

    it('answers 409 when the name is taken', async () => {
      await createJitRunner('taken');
      const answer = await createJitRunner('taken');

      expect(answer.status).toBe(409);
      expectMatchesDescription(P.jit, 'post', 409, answer.body);
      expect(answer.body.message).toBe('Already exists - A runner with the name taken already exists.');
    });

    it('answers 422 for missing labels, an empty label list and a name over 64 characters', async () => {
      const bodies = [
        { name: 'no-labels', runner_group_id: 1 },
        { name: 'empty-labels', runner_group_id: 1, labels: [] },
        { name: 'x'.repeat(65), runner_group_id: 1, labels: ['self-hosted'] },
        { name: 'bad-group', runner_group_id: '1', labels: ['self-hosted'] },
      ];
      for (const body of bodies) {
        const answer = await call('POST', `${orgUrl}/actions/runners/generate-jitconfig`, { body });
        expect(answer.status).toBe(422);
        expectMatchesDescription(P.jit, 'post', 422, answer.body);
      }
      expect(sim.runners()).toEqual([]);
    });

    it('answers 404 for a runner group that does not exist and for an unknown org', async () => {
      const group = await call('POST', `${orgUrl}/actions/runners/generate-jitconfig`, {
        body: { name: 'other-group', runner_group_id: 7, labels: ['self-hosted'] },
      });
      const org = await call('POST', '/orgs/someone-else/actions/runners/generate-jitconfig', {
        body: { name: 'other-org', runner_group_id: 1, labels: ['self-hosted'] },
      });

      for (const answer of [group, org]) {
        expect(answer.status).toBe(404);
        expectMatchesDescription(P.jit, 'post', 404, answer.body);
      }
    });
  });

  describe('deleting runners', () => {
    it('deletes an idle runner, then answers 404 for it', async () => {
      const { body } = await createJitRunner('idle');

      const deleted = await call('DELETE', `${orgUrl}/actions/runners/${body.runner.id}`);
      const again = await call('DELETE', `${orgUrl}/actions/runners/${body.runner.id}`);
      const fetched = await call('GET', `${orgUrl}/actions/runners/${body.runner.id}`);

      expect(deleted.status).toBe(204);
      expect(again.status).toBe(404);
      expect(fetched.status).toBe(404);
      expect(fetched.body.message).toBe('Not Found');
    });

    it('refuses to delete a busy runner with 422; once its job completes GitHub removes it', async () => {
      const { body } = await createJitRunner('busy-one');
      const id = body.runner.id;
      const online = await call('POST', `/_simulator/runners/${id}/status`, { body: { status: 'online', busy: true } });
      expect(online.body).toMatchObject({ status: 'online', busy: true, os: 'linux' });

      const refused = await call('DELETE', `${orgUrl}/actions/runners/${id}`);
      expect(refused.status).toBe(422);
      expectMatchesDescription(P.runner, 'delete', 422, refused.body);
      expect(refused.body.message).toContain('Runner "busy-one" is still running a job');

      const completed = await call('POST', `/_simulator/runners/${id}/complete-job`);
      expect(completed.status).toBe(204);
      const gone = await call('GET', `${orgUrl}/actions/runners/${id}`);
      expect(gone.status).toBe(404);
      expect(sim.findRunnerByName('busy-one')).toBeUndefined();
    });
  });

  describe('listing runners', () => {
    it('pages through 250 runners 100 at a time, following Link rel="next"', async () => {
      const created = await call('POST', '/_simulator/runners', { body: { count: 250, name_prefix: 'fleet' } });
      expect(created.status).toBe(201);

      const seen: number[] = [];
      const pageSizes: number[] = [];
      let next: string | undefined = `${orgUrl}/actions/runners?per_page=100`;
      while (next) {
        const page: Answer = await call('GET', next);
        expect(page.status).toBe(200);
        expectMatchesDescription(P.runners, 'get', 200, page.body);
        expect(page.body.total_count).toBe(250);
        pageSizes.push(page.body.runners.length);
        seen.push(...page.body.runners.map((r: SimulatedRunner) => r.id));
        next = /<([^>]+)>;\s*rel="next"/.exec(page.headers.get('link') ?? '')?.[1];
      }

      expect(pageSizes).toEqual([100, 100, 50]);
      expect(new Set(seen).size).toBe(250);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen.sort((a, b) => a - b)).toEqual(created.body.runners.map((r: SimulatedRunner) => r.id));
    });

    it('builds prev/next/last/first links like GitHub', async () => {
      sim.addRunners(250);
      const middle = await call('GET', `${orgUrl}/actions/runners?per_page=100&page=2`);
      const last = await call('GET', `${orgUrl}/actions/runners?per_page=100&page=3`);

      const rels = (link: string | null): string[] => [...(link ?? '').matchAll(/rel="(\w+)"/g)].map((m) => m[1]);
      expect(rels(middle.headers.get('link'))).toEqual(['prev', 'next', 'last', 'first']);
      expect(rels(last.headers.get('link'))).toEqual(['prev', 'first']);
      expect(middle.headers.get('link')).toContain(`<${sim.url}${orgUrl}/actions/runners?per_page=100&page=3>; rel="next"`);
    });

    it('defaults to 30 per page and clamps per_page=500 to 100', async () => {
      sim.addRunners(150);

      const byDefault = await call('GET', `${orgUrl}/actions/runners`);
      const clamped = await call('GET', `${orgUrl}/actions/runners?per_page=500`);

      expect(byDefault.body.runners).toHaveLength(30);
      expect(clamped.body.runners).toHaveLength(100);
      expect(clamped.body.total_count).toBe(150);
    });

    it('filters by exact name', async () => {
      sim.addRunners(5, { namePrefix: 'named' });
      const [target] = sim.addRunners(1, { namePrefix: 'wanted' });

      const found = await call('GET', `${orgUrl}/actions/runners?name=${encodeURIComponent(target.name)}`);
      const none = await call('GET', `${orgUrl}/actions/runners?name=nobody`);

      expectMatchesDescription(P.runners, 'get', 200, found.body);
      expect(found.body).toEqual({ total_count: 1, runners: [target] });
      expect(none.body).toEqual({ total_count: 0, runners: [] });
    });

    it('serves the last page of 10,000 runners', async () => {
      sim.addRunners(10_000);

      const last = await call('GET', `${orgUrl}/actions/runners?per_page=100&page=100`);

      expect(last.body.total_count).toBe(10_000);
      expect(last.body.runners).toHaveLength(100);
      expect(last.headers.get('link')).not.toContain('rel="next"');
      const refused = await createJitRunner('one-too-many');
      expect(refused.status).toBe(422);
    });
  });

  describe('faults', () => {
    it('with afterHandling, creates the runner but answers 502; a retry then gets 409', async () => {
      await call('POST', '/_simulator/faults', {
        body: { method: 'POST', path: `${orgUrl}/actions/runners/generate-jitconfig`, status: 502, afterHandling: true, times: 1 },
      });

      const first = await createJitRunner('flaky');
      const retry = await createJitRunner('flaky');
      const lookup = await call('GET', `${orgUrl}/actions/runners?name=flaky`);

      expect(first.status).toBe(502);
      expect(retry.status).toBe(409);
      expect(lookup.body.total_count).toBe(1);
      expect(sim.requestCount('POST', /generate-jitconfig$/)).toBe(2);
    });

    it('answers a rate-limit fault with 403, remaining 0, reset and retry-after', async () => {
      sim.injectFault({ path: new RegExp('/actions/runners$'), rateLimit: true, retryAfterSeconds: 30, times: 1 });

      const limited = await call('GET', `${orgUrl}/actions/runners`);
      const after = await call('GET', `${orgUrl}/actions/runners`);

      expect(limited.status).toBe(403);
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(limited.headers.get('retry-after')).toBe('30');
      expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      expect(limited.body.message).toMatch(/rate limit exceeded/i);
      expect(after.status).toBe(200);
    });

    it("answers a secondary-limit fault as GitHub does: 403 saying so, retry-after, and the window's real remaining count", async () => {
      sim.injectFault({ path: new RegExp('/actions/runners$'), rateLimit: 'secondary', retryAfterSeconds: 7, times: 1 });

      const limited = await call('GET', `${orgUrl}/actions/runners`);

      expect(limited.status).toBe(403);
      expect(limited.headers.get('retry-after')).toBe('7');
      expect(Number(limited.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
      expect(limited.body.message).toMatch(/^You have exceeded a secondary rate limit/);
    });

    it('spends its primary limit as GitHub does: remaining counts down, then every request gets 403 until the reset', async () => {
      // Reset times are whole seconds: 2 leaves at least one whole second before the window resets.
      sim.setRateLimit({ remaining: 2, resetInSeconds: 2 });

      const first = await call('GET', `${orgUrl}/actions/runners`);
      const last = await call('GET', `${orgUrl}/actions/runners`);
      const refused = await call('GET', `${orgUrl}/actions/runner-groups`);

      expect([first.status, last.status, refused.status]).toEqual([200, 200, 403]);
      expect([first, last, refused].map((answer) => answer.headers.get('x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
      expect(refused.headers.get('retry-after')).toBeNull();
      expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(refused.body.message).toMatch(new RegExp(`^API rate limit exceeded for installation ID ${sim.installationId}\\.`));

      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const afterReset = await call('GET', `${orgUrl}/actions/runners`);
      expect(afterReset.status).toBe(200);
      expect(afterReset.headers.get('x-ratelimit-remaining')).toBe('4999');
    });

    it('counts the most requests it answered at once, a delayed answer until it is sent', async () => {
      sim.injectFault({ method: 'GET', delayMs: 200 });
      await Promise.all([1, 2, 3].map(() => call('GET', `${orgUrl}/actions/runner-groups`)));
      expect(sim.peakConcurrentRequests()).toBe(3);
    });

    it('with only a delay, answers normally; clearFaults removes faults', async () => {
      sim.injectFault({ method: 'GET', delayMs: 20 });
      const delayed = await call('GET', `${orgUrl}/actions/runner-groups`);
      sim.injectFault({ status: 500 });
      sim.clearFaults();
      const clean = await call('GET', `${orgUrl}/actions/runner-groups`);

      expect(delayed.status).toBe(200);
      expect(clean.status).toBe(200);
    });

    it('logs requests without control calls, and reset forgets them', async () => {
      await createJitRunner('logged');
      const log = await call('GET', '/_simulator/requests');
      expect(log.body.requests).toEqual([
        expect.objectContaining({ method: 'POST', path: `${orgUrl}/actions/runners/generate-jitconfig`, status: 201 }),
      ]);

      await call('POST', '/_simulator/reset');
      expect(sim.requests()).toEqual([]);
      expect(sim.runners()).toEqual([]);
    });
  });

  it('the contract check rejects a runner that lacks fields GitHub requires', () => {
    const validate = responseValidator(P.runner, 'get', 200);

    expect(validate({ id: 1, name: 'x', os: 'linux', status: 'online', busy: false, labels: [] })).toBe(true);
    expect(validate({ id: 1, name: 'x', status: 'online', busy: false, labels: [] })).toBe(false);
    expect(validate({ id: 1, name: 'x', os: 'linux', status: 'online', busy: false, labels: [{ id: 1 }] })).toBe(false);
  });

  it('answers 404 Not Found for an unknown route', async () => {
    const answer = await call('GET', '/orgs/sim-org/actions/nothing-here');

    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  });
});

describe('GitHub simulator control endpoints', () => {
  let sim: GithubSimulator;

  beforeAll(async () => {
    sim = await GithubSimulator.start();
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('lists them at /_simulator/, the address the standalone simulator prints', async () => {
    const response = await fetch(`${sim.url}/_simulator/`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { control_endpoints: string[] };
    const listed = body.control_endpoints.join('\n');
    for (const path of ['/_simulator/runners/{id}/status', '/_simulator/runners/{id}/complete-job', '/_simulator/faults', '/_simulator/reset', '/_simulator/rate-limit']) {
      expect(listed).toContain(path);
    }
  });

  it('sets the primary rate limit over HTTP, and refuses a value that is not a count', async () => {
    const post = (body: unknown) =>
      fetch(`${sim.url}/_simulator/rate-limit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ limit: 10, remaining: 0, reset_in_seconds: 30 })).status).toBe(204);
    const refused = await post({ remaining: -1 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ message: 'remaining must be a non-negative integer' });
    const secondary = await fetch(`${sim.url}/_simulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: 'tertiary' }),
    });
    expect(secondary.status).toBe(400);
  });
});
