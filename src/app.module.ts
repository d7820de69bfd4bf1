import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AdminModule } from './admin/admin.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { OidcAuthGuard } from './auth/oidc-auth.guard.js';
import { loggerParams } from './common/logging.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { UnsafeSettingsWarnings } from './config/unsafe-settings.warnings.js';
import { DatabaseModule } from './database/database.module.js';
import type { SchemaMode } from './database/schema.js';
import { GithubModule } from './github/github.module.js';
import { HealthModule } from './health/health.module.js';
import { MeModule } from './me/me.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PolicyModule } from './policy/policy.module.js';
import { ClientIpRateLimitGuard, IdentityRateLimitGuard } from './rate-limit/rate-limit.guards.js';
import { RateLimitModule } from './rate-limit/rate-limit.module.js';
import { RunnersModule } from './runners/runners.module.js';
import { SchedulerModule } from './runners/reconciliation/scheduler.module.js';
import { SuspendedCallerInterceptor } from './suspensions/suspended-caller.interceptor.js';
import { SuspensionsModule } from './suspensions/suspensions.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export interface AppModuleOptions {
  /** migrate: apply migrations at start (embedded database, tests); verify: require them applied. */
  schema: SchemaMode;
  /** Where log lines go (tests capture them); standard output by default. */
  logDestination?: DestinationStream;
}

/** The composition root of the HTTP service. The CLI has its own root over the same modules. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // On the API's port unless METRICS_PORT gives /metrics a port of its own (main.ts serves it there).
        config.metrics.port === undefined ? MetricsModule.withEndpoint() : MetricsModule,
        LoggerModule.forRoot(loggerParams(config.app, options.logDestination)),
        DatabaseModule.forRoot(options.schema, 'service'),
        RateLimitModule,
        AuthModule,
        // Loaded at start: a bad POLICY_FILE stops the service before it answers anyone.
        PolicyModule,
        AuditModule,
        GithubModule,
        RunnersModule,
        MeModule,
        SchedulerModule,
        HealthModule,
        AdminModule,
        SuspensionsModule,
        // Only with GITHUB_WEBHOOK_SECRET: without it the webhook route does not exist.
        WebhooksModule.forRoot(config),
      ],
      providers: [
        // The global guards, in the order Nest runs them (the order they are registered in): the limit per
        // address before any token is looked at, so a flood of forged tokens costs no signature check,
        // key fetch or audit write; then authentication; then the limit per identity, before the
        // controllers' guards and handlers, whose refusals are audited.
        { provide: APP_GUARD, useExisting: ClientIpRateLimitGuard },
        { provide: APP_GUARD, useExisting: OidcAuthGuard },
        { provide: APP_GUARD, useExisting: IdentityRateLimitGuard },
        // After authentication, before any handler: a suspended caller is refused everywhere but GET /me.
        { provide: APP_INTERCEPTOR, useClass: SuspendedCallerInterceptor },
        UnsafeSettingsWarnings,
      ],
    };
  }
}
