/**
 * The whole service for e2e tests, as main.ts builds it (same AppModule, same configureApp): a fresh
 * database (PostgreSQL when TEST_DATABASE_URL is set, else PGlite), the GitHub simulator over real
 * HTTP, a local OIDC issuer, and every log line captured so tests can check what was logged.
 */
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import type { AppConfig, AppSettings, GithubConfig, RateLimitSettings, RunnerSettings, SchedulerSettings } from '../../src/config/app-config.js';
import { DEFAULT_GITHUB_LIMITS, DEFAULT_RUNNER_SETTINGS, DEFAULT_SCHEDULER_SETTINGS, RATE_LIMITS_OFF } from '../../src/config/config.loader.js';
import { DEFAULT_AUDIT_EVENT_SOURCE } from '../../src/config/audit-settings.js';
import { configureApp } from '../../src/configure-app.js';
import type { SchemaMode } from '../../src/database/schema.js';
import { GithubSimulator } from '../../src/github/simulator/github-simulator.js';
import { testDatabaseConfig } from './database.js';
import { TestOidcProvider } from './oidc.js';

export interface TestAppOptions {
  /** OIDC on (default) with a local issuer, or off (ENABLE_OIDC_AUTH=false). */
  auth?: 'oidc' | 'off';
  github?: Partial<
    Pick<
      GithubConfig,
      'apiUrl' | 'requestTimeoutMs' | 'systemLabels' | 'runnerGroupId' | 'maxConcurrency' | 'jitConfigPerMinute' | 'webhookSecret'
    >
  >;
  app?: Partial<Pick<AppSettings, 'trustProxy' | 'requestDeadlineMs' | 'logLevel'>>;
  runners?: Partial<RunnerSettings>;
  /** Off unless a test turns it on: background ticks would make other tests' GitHub traffic unpredictable. */
  scheduler?: Partial<SchedulerSettings>;
  /** Off unless a test turns one on: every test sends from one address, many from one identity. */
  rateLimit?: Partial<RateLimitSettings>;
  /** Use this database instead of a fresh one (two instances on one database); the caller drops it. */
  database?: AppConfig['database'];
  /** Use this simulator instead of a fresh one; the caller stops it. */
  simulator?: GithubSimulator;
  /** POLICY_FILE: the access policy the service loads (write one with writePolicyFile). */
  policyFile?: string;
  metrics?: AppConfig['metrics'];
  /** What the start does with the schema: migrate (default), or none (a database init-db has not prepared). */
  schema?: SchemaMode;
}

export interface TestApp {
  app: INestApplication;
  /** The HTTP server for supertest. */
  server: ReturnType<INestApplication['getHttpServer']>;
  config: AppConfig;
  simulator: GithubSimulator;
  oidc: TestOidcProvider;
  dataSource: DataSource;
  /** Every log line the app wrote (JSON), at trace level. */
  logs: string[];
  close(): Promise<void>;
}

/** Log lines as the app writes them (JSON), for tests to search. */
export class LineCollector extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const shared = { config: options.database, drop: async () => {} };
  const [simulator, oidc, database] = await Promise.all([
    options.simulator ?? GithubSimulator.start(),
    TestOidcProvider.start(),
    options.database ? shared : testDatabaseConfig(),
  ]);
  const config: AppConfig = {
    app: { port: 0, host: '127.0.0.1', logLevel: 'trace', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0, ...options.app },
    metrics: { ...options.metrics },
    database: database.config as AppConfig['database'],
    auth: {
      ...(options.auth === 'off' ? { ...oidc.authConfig(), enabled: false } : oidc.authConfig()),
      policyFile: options.policyFile,
    },
    github: {
      ...simulator.connectionSettings(),
      runnerGroupId: 1,
      systemLabels: ['self-hosted', 'linux', 'x64'],
      requestTimeoutMs: 10_000,
      ...DEFAULT_GITHUB_LIMITS,
      simulated: true,
      ...options.github,
    },
    runners: { ...DEFAULT_RUNNER_SETTINGS, ...options.runners },
    scheduler: { ...DEFAULT_SCHEDULER_SETTINGS, enabled: false, ...options.scheduler },
    rateLimit: { ...RATE_LIMITS_OFF, ...options.rateLimit },
    audit: { eventSource: DEFAULT_AUDIT_EVENT_SOURCE },
  };
  const logs = new LineCollector();
  const app = await NestFactory.create(AppModule.forRoot(config, { schema: options.schema ?? 'migrate', logDestination: logs }), {
    bufferLogs: true,
    abortOnError: false,
  });
  configureApp(app);
  await app.init();
  const dataSource = app.get<DataSource>(getDataSourceToken());
  return {
    app,
    server: app.getHttpServer(),
    config,
    simulator,
    oidc,
    dataSource,
    logs: logs.lines,
    async close() {
      await app.close();
      await Promise.all([options.simulator ? undefined : simulator.stop(), oidc.stop()]);
      await database.drop();
    },
  };
}
