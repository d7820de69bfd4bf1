/**
 * AuthModule alone, for authentication tests that need no database or GitHub: a probe controller
 * that echoes the caller, a policy whose trusted issuers the test sets (and may change between
 * requests, as a reload would), and an audit trail kept in memory.
 *
 *   const t = await startAuthApp({ issuers: [oidc.trustedIssuer()] });
 *   await request(t.server).get('/probe/me').auth(token, { type: 'bearer' }).expect(200);
 */
import { Controller, type DynamicModule, Get, type INestApplication, type LoggerService, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AuditModule } from '../../src/audit/audit.module.js';
import { type AuditRecord, AuditService } from '../../src/audit/audit.service.js';
import type { Actor } from '../../src/auth/actor.js';
import { AuthModule } from '../../src/auth/auth.module.js';
import { MetricsModule } from '../../src/metrics/metrics.module.js';
import { CurrentActor } from '../../src/auth/current-actor.decorator.js';
import { DEFAULT_KEY_FETCH_LIMITS, type KeyFetchLimits } from '../../src/auth/key-document-fetch.js';
import { OidcAuthGuard } from '../../src/auth/oidc-auth.guard.js';
import { Public } from '../../src/auth/public.decorator.js';
import { KEY_FETCH_LIMITS } from '../../src/auth/token-verifier.js';
import { APP_CONFIG, type AppConfig, type AuthConfig } from '../../src/config/app-config.js';
import { PolicyStore } from '../../src/policy/policy.store.js';
import type { Policy, TrustedIssuer } from '../../src/policy/policy.types.js';

export const PROBE_PATH = '/probe/me';
export const PUBLIC_PROBE_PATH = '/probe/open';

@Controller('probe')
class ProbeController {
  @Get('me')
  me(@CurrentActor() actor: Actor) {
    const { kind, issuer, subject, name, issuerName, requestId, sourceIp } = actor;
    return { kind, issuer, subject, name, issuer_name: issuerName, request_id: requestId, source_ip: sourceIp };
  }

  @Public()
  @Get('open')
  open() {
    return { ok: true };
  }
}

@Module({})
class TestConfigModule {
  static forAuth(auth: AuthConfig): DynamicModule {
    return {
      module: TestConfigModule,
      global: true,
      providers: [{ provide: APP_CONFIG, useValue: { auth } as AppConfig }],
      exports: [APP_CONFIG],
    };
  }
}

/** One audit event as AuditService.recordAlone was given it. */
export interface RecordedAuditEvent extends AuditRecord {
  actor: Pick<Actor, 'kind' | 'issuer' | 'subject' | 'name' | 'requestId'>;
}

/** An AuditService that keeps events in memory, or fails every write when told to. */
export class MemoryAudit {
  readonly events: RecordedAuditEvent[] = [];
  failWrites = false;

  async recordAlone(actor: Actor, event: AuditRecord): Promise<void> {
    if (this.failWrites) throw new Error('the audit table is unavailable');
    const { kind, issuer, subject, name, requestId } = actor;
    this.events.push({ ...event, actor: { kind, issuer, subject, name, requestId } });
  }
}

@Module({})
class MemoryAuditModule {
  static with(audit: MemoryAudit): DynamicModule {
    return {
      module: MemoryAuditModule,
      providers: [{ provide: AuditService, useValue: audit }],
      exports: [AuditService],
    };
  }
}

/** Keeps what the app logs, by level. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  debug(message: unknown): void {
    this.lines.push({ level: 'debug', message: String(message) });
  }
  verbose(): void {}

  messages(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

export interface AuthAppOptions {
  /** Default: on. Off acts as the local identity. */
  auth?: Partial<AuthConfig>;
  /** The policy's trusted issuers at start; `t.setIssuers` changes them. */
  issuers?: TrustedIssuer[];
  fetchLimits?: Partial<KeyFetchLimits>;
}

export interface AuthApp {
  app: INestApplication;
  server: ReturnType<INestApplication['getHttpServer']>;
  audit: MemoryAudit;
  logger: RecordingLogger;
  /** Replaces the trusted issuers, as a policy reload would. */
  setIssuers(issuers: TrustedIssuer[]): void;
  close(): Promise<void>;
}

const AUTH_ON: AuthConfig = { enabled: true, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 30 };

export async function startAuthApp(options: AuthAppOptions = {}): Promise<AuthApp> {
  const audit = new MemoryAudit();
  const logger = new RecordingLogger();
  let policy: Policy = { source: null, issuers: options.issuers ?? [], rules: null, loadedAt: new Date() };
  const moduleRef = await Test.createTestingModule({
    imports: [TestConfigModule.forAuth({ ...AUTH_ON, ...options.auth }), MetricsModule, AuthModule],
    controllers: [ProbeController],
    // As the service's root module registers it.
    providers: [{ provide: APP_GUARD, useExisting: OidcAuthGuard }],
  })
    .overrideModule(AuditModule)
    .useModule(MemoryAuditModule.with(audit))
    .overrideProvider(PolicyStore)
    .useValue({ current: () => policy })
    .overrideProvider(KEY_FETCH_LIMITS)
    .useValue({ ...DEFAULT_KEY_FETCH_LIMITS, ...options.fetchLimits })
    .compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return {
    app,
    server: app.getHttpServer(),
    audit,
    logger,
    setIssuers(issuers) {
      policy = { ...policy, issuers, loadedAt: new Date() };
    },
    close: () => app.close(),
  };
}
