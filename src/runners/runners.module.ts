import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { GithubModule } from '../github/github.module.js';
import { PolicyModule } from '../policy/policy.module.js';
import { SuspensionsModule } from '../suspensions/suspensions.module.js';
import { GithubRunnersService } from './github-runners.service.js';
import { JitProvisioningService } from './provisioning/jit-provisioning.service.js';
import { ProvisioningAttempts } from './provisioning/provisioning-attempts.service.js';
import { RegistrationTokensService } from './provisioning/registration-tokens.service.js';
import { RunnerGroupNames } from './provisioning/runner-group-names.service.js';
import { RunnerQuotas } from './provisioning/runner-quotas.service.js';
import { ForeignRunnerEntity } from './reconciliation/foreign-runner.entity.js';
import { ForeignRunnersRepository } from './reconciliation/foreign-runners.repository.js';
import { ForeignRunnersService } from './reconciliation/foreign-runners.service.js';
import { GithubSyncService } from './reconciliation/github-sync.service.js';
import { JobLeaseRepository } from './reconciliation/job-lease.repository.js';
import { JobLeases } from './reconciliation/job-leases.service.js';
import { RunnerReconciliationRepository } from './reconciliation/runner-reconciliation.repository.js';
import { SchedulerLeaseEntity } from './reconciliation/scheduler-lease.entity.js';
import { StaleCleanupService } from './reconciliation/stale-cleanup.service.js';
import { RunnerEntity } from './runner.entity.js';
import { RunnersController } from './runners.controller.js';
import { RunnersRepository } from './runners.repository.js';
import { RunnersService } from './runners.service.js';

/**
 * Runners: issuing them (provisioning/), their lifecycle (list, get, refresh, delete), and keeping
 * them in step with GitHub (reconciliation/; its scheduler is a module of its own that only the
 * HTTP service loads).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([RunnerEntity, ForeignRunnerEntity, SchedulerLeaseEntity]),
    AuditModule,
    GithubModule,
    PolicyModule,
    SuspensionsModule,
  ],
  controllers: [RunnersController],
  providers: [
    RunnersRepository,
    GithubRunnersService,
    RunnerQuotas,
    RunnerGroupNames,
    ProvisioningAttempts,
    JitProvisioningService,
    RegistrationTokensService,
    RunnersService,
    GithubSyncService,
    StaleCleanupService,
    RunnerReconciliationRepository,
    ForeignRunnersRepository,
    ForeignRunnersService,
    JobLeaseRepository,
    JobLeases,
  ],
  exports: [RunnersService, GithubSyncService, StaleCleanupService, ForeignRunnersService, JobLeases, RunnerQuotas],
})
export class RunnersModule {}
