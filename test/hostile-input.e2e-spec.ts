/**
 * Bad input, property-based: every route the API description lists (built from the controllers) gets
 * generated hostile requests from a caller the policy allows everything (admin included), so bodies
 * get past authentication to validation and beyond. Whatever comes in: no 5xx, every 4xx in the
 * error shape with a code, and the service still up at the end with nothing logged as an error.
 * Rate limits are off here. A counterexample fast-check finds becomes a plain test in
 * hostile-input-regressions.e2e-spec.ts once fixed.
 */
import fc from 'fast-check';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { hostileBody, hostilePathId, hostileQuery } from './support/hostile-input.js';
import { TestOidcProvider } from './support/oidc.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';

/** Generated bodies per POST route, and generated query strings and path ids per GET and DELETE route. */
const BODIES_PER_POST_ROUTE = 1_000;
const REQUESTS_PER_GET_OR_DELETE_ROUTE = 300;
/** What a person notices first when a route is missing from the run: these must be found and exercised. */
const EXPECTED_ROUTES = [
  'POST /api/v1/runners/jit',
  'POST /api/v1/runners/provision',
  'POST /api/v1/runners/{idOrName}/refresh',
  'GET /api/v1/runners',
  'GET /api/v1/runners/{idOrName}',
  'DELETE /api/v1/runners/{idOrName}',
  'GET /api/v1/me',
  'GET /api/v1/admin/runners',
  'DELETE /api/v1/admin/runners/{idOrName}',
  'GET /api/v1/admin/audit-events',
  'POST /api/v1/admin/identities/suspend',
  'POST /api/v1/admin/identities/resume',
  'GET /api/v1/admin/suspensions',
  'GET /health',
];

interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** As the API description writes it: /api/v1/runners/{idOrName}. */
  path: string;
  bodyFields: string[];
  queryNames: string[];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

function routesOf(document: OpenApiDocument): Route[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => {
      const ref = operation.requestBody?.content['application/json']?.schema.$ref;
      const schema = ref ? document.components.schemas[ref.split('/').pop() as string] : undefined;
      return {
        method: method.toUpperCase() as Route['method'],
        path,
        bodyFields: Object.keys(schema?.properties ?? {}),
        queryNames: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
      };
    }),
  );
}

/**
 * Values each known field accepts, so that a body with one hostile field reaches that field's check
 * (runner_name_prefix is left out: JIT takes it or runner_name, not both).
 */
function plausibleValues(issuer: string): Record<string, unknown> {
  return {
    runner_name: 'hostile-input',
    labels: ['ci'],
    runner_group_id: 1,
    work_folder: '_work',
    ephemeral: true,
    issuer,
    subject: 'someone-else',
    remove_runners: false,
    reason: 'property-based test',
  };
}

interface Outcome {
  status: number;
  text: string;
}

/** The properties of every answer: no 5xx, and a 4xx in the error shape with a code. */
function checkAnswer(route: Route, url: string, outcome: Outcome): void {
  const where = `${route.method} ${url.slice(0, 300)} answered ${outcome.status}: ${outcome.text.slice(0, 300)}`;
  if (outcome.status >= 500) throw new Error(`5xx: ${where}`);
  if (outcome.status >= 400) {
    let code: unknown;
    try {
      code = (JSON.parse(outcome.text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      throw new Error(`4xx without a JSON body: ${where}`);
    }
    if (typeof code !== 'string' || code === '') throw new Error(`4xx without error.code: ${where}`);
  }
}

describe('hostile input (property-based, e2e)', () => {
  let t: TestApp;
  let oidc: TestOidcProvider;
  let policy: PolicyFile;
  let baseUrl: string;
  let token: string;
  let routes: Route[];
  /** Per route: how many requests, by status. */
  const tally = new Map<string, Map<number, number>>();

  beforeAll(async () => {
    oidc = await TestOidcProvider.start();
    policy = writePolicyFile(`
issuers:
  - name: test
    issuer: ${oidc.issuer}
    jwks_url: ${oidc.jwksUrl}
    audience: ${oidc.audience}
rules:
  - name: allow-everything
    issuer: test
    claims: { email: { pattern: ".*" } }
    grant: { admin: true, registration_tokens: true, labels: { allowed: [{ pattern: ".*" }] } }
`);
    // Warnings and errors only: thousands of requests' trace lines would cost more than the requests.
    t = await startTestApp({ policyFile: policy.path, app: { logLevel: 'warn' } });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = await t.app.getUrl();
    token = await oidc.token({ sub: 'hostile-caller' }, { expiresIn: '30m' });
    const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
    routes = routesOf(document);
  });

  afterAll(async () => {
    if (process.env.PRINT_HOSTILE_INPUT_TALLY) {
      const lines = [...tally].map(([route, statuses]) => {
        const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
        const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}:${count}`).join(' ');
        return `${route}: ${total} (${byStatus})`;
      });
      process.stdout.write(`Hostile input, answers by route:\n${lines.join('\n')}\n`);
    }
    await t?.close();
    await oidc?.stop();
    policy?.remove();
  });

  async function send(route: Route, pathId: string, query: string, body?: string): Promise<void> {
    const path = route.path.replace(/\{[^}]+\}/g, pathId);
    const url = `${baseUrl}${path}${query ? `?${query}` : ''}`;
    const response = await fetch(url, {
      method: route.method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const outcome = { status: response.status, text: await response.text() };
    const key = `${route.method} ${route.path}`;
    const statuses = tally.get(key) ?? new Map<number, number>();
    statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    tally.set(key, statuses);
    checkAnswer(route, url, outcome);
  }

  it('finds every route of the controllers in the API description', () => {
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(expect.arrayContaining(EXPECTED_ROUTES));
    expect(routes.find((route) => route.path === '/api/v1/runners/jit')?.bodyFields).toEqual(
      expect.arrayContaining(['runner_name', 'runner_name_prefix', 'labels', 'runner_group_id', 'work_folder']),
    );
  });

  it(`answers ${BODIES_PER_POST_ROUTE} generated bodies to each POST route with no 5xx and a code on every 4xx`, async () => {
    for (const route of routes.filter(({ method }) => method !== 'GET' && method !== 'DELETE')) {
      const plausible = Object.fromEntries(
        Object.entries(plausibleValues(oidc.issuer)).filter(([field]) => route.bodyFields.includes(field)),
      );
      await fc.assert(
        fc.asyncProperty(hostileBody(route.bodyFields, plausible), hostilePathId, async (body, pathId) => {
          await send(route, pathId, '', body);
        }),
        { numRuns: BODIES_PER_POST_ROUTE },
      );
    }
  }, 240_000);

  it(`answers ${REQUESTS_PER_GET_OR_DELETE_ROUTE} generated query strings and path ids to each GET and DELETE route the same way`, async () => {
    for (const route of routes.filter(({ method }) => method === 'GET' || method === 'DELETE')) {
      await fc.assert(
        fc.asyncProperty(hostileQuery(route.queryNames), hostilePathId, async (query, pathId) => {
          await send(route, pathId, query);
        }),
        { numRuns: REQUESTS_PER_GET_OR_DELETE_ROUTE },
      );
    }
  }, 240_000);

  it('is still up afterwards, with nothing logged as an error', async () => {
    await request(t.server).get('/health').expect(200);
    await request(t.server).get('/api/v1/me').auth(token, { type: 'bearer' }).expect(200);
    const errors = t.logs.map((line) => JSON.parse(line) as { level: number; msg?: string }).filter((line) => line.level >= 50);
    expect(errors.map((line) => line.msg)).toEqual([]);
  });
});
