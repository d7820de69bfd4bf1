import { type DynamicModule, Module } from '@nestjs/common';
import { KillSwitchModule } from '../admin/kill-switch.module.js';
import { AuditModule } from '../audit/audit.module.js';
import type { AppConfig } from '../config/app-config.js';
import type { LoadOptions } from '../config/config.loader.js';
import { ConfigModule } from '../config/config.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { GithubModule } from '../github/github.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RunnersModule } from '../runners/runners.module.js';
import { CheckPolicyCommand } from './check-policy.command.js';
import { CleanupStaleRunnersCommand } from './cleanup-stale-runners.command.js';
import { CliJobLease } from './cli-job-lease.service.js';
import { CloudEventsExport } from './cloud-events-export.service.js';
import { ExportAuditLogCommand } from './export-audit-log.command.js';
import { InitDbCommand } from './init-db.command.js';
import { ListRunnersCommand } from './list-runners.command.js';
import { PruneAuditLogCommand } from './prune-audit-log.command.js';
import { ResumeIdentityCommand } from './resume-identity.command.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';
import { SuspendIdentityCommand } from './suspend-identity.command.js';
import { CLI_STOP_SIGNAL } from './stop-signal.js';
import { SyncGithubCommand } from './sync-github.command.js';

/**
 * The CLI's composition root: the same modules as the service, without HTTP and without the
 * scheduler (a command runs once and exits). The schema is left alone at start: init-db is how it
 * gets created, and every other command checks it first (SchemaCheck). RunnersModule's controller is
 * instantiated but never routed: an application context has no HTTP server.
 *
 * check-policy (scope `policy`) gets only the configuration: it must run where neither the database
 * nor GitHub is set up, such as the CI of the repository that holds the policy file.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig, scope: NonNullable<LoadOptions['scope']> = 'database', stop?: AbortSignal): DynamicModule {
    if (scope === 'policy') {
      return { module: CliModule, imports: [ConfigModule.forRoot(config)], providers: [CliOutput, CheckPolicyCommand] };
    }
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot('none', 'cli'), MetricsModule, AuditModule, GithubModule, RunnersModule, KillSwitchModule],
      providers: [
        CliOutput,
        SchemaCheck,
        // Never fires unless cli.ts wires it to Ctrl-C and SIGTERM.
        { provide: CLI_STOP_SIGNAL, useValue: stop ?? new AbortController().signal },
        CliJobLease,
        InitDbCommand,
        ListRunnersCommand,
        SyncGithubCommand,
        CleanupStaleRunnersCommand,
        ExportAuditLogCommand,
        CloudEventsExport,
        PruneAuditLogCommand,
        CheckPolicyCommand,
        SuspendIdentityCommand,
        ResumeIdentityCommand,
      ],
    };
  }
}
