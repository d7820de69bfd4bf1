import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { GithubModule } from '../github/github.module.js';
import { PolicyModule } from '../policy/policy.module.js';
import { SuspensionsModule } from '../suspensions/suspensions.module.js';
import { GithubRunnersService } from './github-runners.service.js';
import { RunnerJobEventsService } from './job-events/runner-job-events.service.js';
import { RunnerJobsRepository } from './job-events/runner-jobs.repository.js';
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
import { UnfinishedRequests } from './reconciliation/unfinished-requests.service.js';
import { RunnerEntity } from './runner.entity.js';
import { RunnerMetrics } from './runner-metrics.js';
import { RunnersController } from './runners.controller.js';
import { RunnerListingsRepository } from './runner-listings.repository.js';
import { RunnersRepository } from './runners.repository.js';
import { RunnersService } from './runners.service.js';

/**
 * Runners: issuing them (provisioning/), their lifecycle (list, get, refresh, delete), keeping
 * them in step with GitHub (reconciliation/; its scheduler is a module of its own that only the
 * HTTP service loads), and what GitHub's workflow_job events say about them (job-events/).
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
    RunnerListingsRepository,
    GithubRunnersService,
    RunnerQuotas,
    RunnerGroupNames,
    ProvisioningAttempts,
    JitProvisioningService,
    RegistrationTokensService,
    RunnersService,
    GithubSyncService,
    UnfinishedRequests,
    StaleCleanupService,
    RunnerMetrics,
    RunnerJobsRepository,
    RunnerJobEventsService,
    RunnerReconciliationRepository,
    ForeignRunnersRepository,
    ForeignRunnersService,
    JobLeaseRepository,
    JobLeases,
  ],
  exports: [
    RunnersService,
    GithubSyncService,
    StaleCleanupService,
    ForeignRunnersService,
    JobLeases,
    RunnerQuotas,
    // Webhooks (workflow_job events).
    RunnerJobEventsService,
  ],
})
export class RunnersModule {}
