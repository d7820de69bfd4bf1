import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import type { AppConfig } from '../src/config/app-config.js';
import { DEFAULT_GITHUB_LIMITS, DEFAULT_RUNNER_SETTINGS, DEFAULT_SCHEDULER_SETTINGS, RATE_LIMITS_OFF } from '../src/config/config.loader.js';
import { DEFAULT_AUDIT_EVENT_SOURCE } from '../src/config/audit-settings.js';
import { MIGRATIONS } from '../src/database/migrations/index.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';
import { startTestApp, type TestApp } from './support/app.js';


const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

describe('start-up', () => {
  let database: TestDatabase;

  afterEach(async () => {
    await database?.drop();
  });

  it('refuses to start on a database that lacks migrations, saying to run init-db', async () => {
    database = await testDatabaseConfig();
    const config = {
      app: { port: 0, host: '127.0.0.1', logLevel: 'error', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0 },
      metrics: {},
      database: database.config,
      auth: { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 0 },
      github: {
        apiUrl: 'http://127.0.0.1:9',
        appId: '1',
        installationId: 1,
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        org: 'my-org',
        runnerGroupId: 1,
        systemLabels: ['self-hosted'],
        requestTimeoutMs: 1000,
        ...DEFAULT_GITHUB_LIMITS,
        simulated: false,
      },
      runners: DEFAULT_RUNNER_SETTINGS,
      scheduler: { ...DEFAULT_SCHEDULER_SETTINGS, enabled: false },
      rateLimit: RATE_LIMITS_OFF,
      audit: { eventSource: DEFAULT_AUDIT_EVENT_SOURCE },
    } satisfies AppConfig;
    const app = await NestFactory.create(AppModule.forRoot(config, { schema: 'verify', logDestination: silent }), {
      logger: false,
      abortOnError: false,
    });
    await expect(app.init()).rejects.toThrow(
      new RegExp(`lacks ${MIGRATIONS.length} migration\\(s\\): run \`node dist/cli\\.js init-db\``),
    );
  });

  it('refuses to start on a bad POLICY_FILE, naming the rule, the field and the problem', async () => {
    const policyFile = join(mkdtempSync(join(tmpdir(), 'rts-startup-policy-')), 'policy.yaml');
    writeFileSync(
      policyFile,
      'issuers: [{ name: idp, issuer: "https://issuer.example", audience: rts }]\nrules: [{ name: everyone, issuer: idp, grant: {} }]\n',
    );
    database = await testDatabaseConfig();
    const config = {
      app: { port: 0, host: '127.0.0.1', logLevel: 'error', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0 },
      metrics: {},
      database: database.config,
      auth: { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 0, policyFile },
      github: { apiUrl: '', appId: '', installationId: 0, privateKey: '', org: '', runnerGroupId: 1, systemLabels: [], requestTimeoutMs: 1000, ...DEFAULT_GITHUB_LIMITS, simulated: true },
      runners: DEFAULT_RUNNER_SETTINGS,
      scheduler: { ...DEFAULT_SCHEDULER_SETTINGS, enabled: false },
      rateLimit: RATE_LIMITS_OFF,
      audit: { eventSource: DEFAULT_AUDIT_EVENT_SOURCE },
    } satisfies AppConfig;
    const starting = NestFactory.create(AppModule.forRoot(config, { schema: 'migrate', logDestination: silent }), { logger: false, abortOnError: false });
    await expect(starting).rejects.toThrow(
      `Policy file ${policyFile} is invalid:\n  - rules[0] "everyone": claims: a rule needs at least one claim condition`,
    );
  });
});

describe('API description', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('documents the JIT endpoint: its fields, every status and the error shape', async () => {
    const response = await request(t.server).get('/docs/openapi.json').expect(200);
    const document = response.body;
    const jit = document.paths['/api/v1/runners/jit'].post;
    expect(jit.operationId).toBe('provisionJit');
    expect(Object.keys(jit.responses).sort()).toEqual(['201', '400', '401', '409', '429', '502', '503', '504']);
    const schemas = document.components.schemas;
    expect(Object.keys(schemas.CreateJitRunnerDto.properties).sort()).toEqual(
      ['labels', 'runner_group_id', 'runner_name', 'runner_name_prefix', 'work_folder'].sort(),
    );
    // labels are optional: the system labels (or bind_to_run's run label) are enough.
    expect(schemas.CreateJitRunnerDto.required).toBeUndefined();
    expect(Object.keys(schemas.JitRunnerResponseDto.properties).sort()).toEqual(
      ['encoded_jit_config', 'expires_at', 'labels', 'run_command', 'runner_id', 'runner_name'].sort(),
    );
    expect(schemas.ApiErrorResponseDto.properties).toHaveProperty('error');
    expect(document.paths['/api/v1/runners'].get.operationId).toBe('listRunners');
    expect(document.paths['/api/v1/runners/{idOrName}'].get.responses).toHaveProperty('404');
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents 503 DATABASE_UNAVAILABLE on every API operation', async () => {
    const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body;
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    const operations = Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ operation: `${method} ${path}`, responses: operation.responses })),
      );
    expect(operations.length).toBeGreaterThan(10);
    const undocumented = operations.filter(({ responses }) => !responses['503']?.description.includes('DATABASE_UNAVAILABLE'));
    expect(undocumented.map(({ operation }) => operation)).toEqual([]);
  });

  it('gives a request id to a request whose body is not valid JSON', async () => {
    const response = await request(t.server)
      .post('/api/v1/runners/jit')
      .set('Content-Type', 'application/json')
      .set('x-request-id', 'bad-json-1')
      .send('{')
      .expect(400);
    expect(response.body.request_id).toBe('bad-json-1');
    expect(response.headers['x-request-id']).toBe('bad-json-1');
  });

  it('serves Swagger UI', async () => {
    const response = await request(t.server).get('/docs').redirects(1).expect(200);
    expect(response.text).toContain('swagger-ui');
  });
});

describe('behind a proxy (TRUST_PROXY)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ auth: 'off', app: { trustProxy: 1 } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("audits the client's address the proxy reports, not the proxy's", async () => {
    await request(t.server)
      .post('/api/v1/runners/jit')
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ runner_name: 'behind-proxy', labels: ['x'] })
      .expect(201);
    const rows: { source_ip: string }[] = await t.dataSource.query(
      `SELECT DISTINCT source_ip FROM audit_events WHERE runner_name = 'behind-proxy'`,
    );
    expect(rows).toEqual([{ source_ip: '203.0.113.7' }]);
  });

  it('believes only the hop its proxy added, not an address the client forged before it', async () => {
    // The client sent X-Forwarded-For: 198.51.100.66; its one proxy appended the address it saw.
    await request(t.server)
      .post('/api/v1/runners/jit')
      .set('X-Forwarded-For', '198.51.100.66, 203.0.113.8')
      .send({ runner_name: 'behind-proxy-forged', labels: ['x'] })
      .expect(201);
    const rows: { source_ip: string }[] = await t.dataSource.query(
      `SELECT DISTINCT source_ip FROM audit_events WHERE runner_name = 'behind-proxy-forged'`,
    );
    expect(rows).toEqual([{ source_ip: '203.0.113.8' }]);
  });

  it('says nothing about forged addresses with a hop count', () => {
    expect(t.logs.filter((line) => line.includes('TRUST_PROXY'))).toEqual([]);
  });
});
