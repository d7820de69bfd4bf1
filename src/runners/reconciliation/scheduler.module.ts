import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GithubModule } from '../../github/github.module.js';
import { RunnersModule } from '../runners.module.js';
import { JobLeaseRepository } from './job-lease.repository.js';
import { ReconciliationScheduler } from './reconciliation.scheduler.js';
import { SchedulerLeaseEntity } from './scheduler-lease.entity.js';

/** The background sync and cleanup. Only the HTTP service imports this module; the CLI never does. */
@Module({
  imports: [ScheduleModule.forRoot(), TypeOrmModule.forFeature([SchedulerLeaseEntity]), GithubModule, RunnersModule],
  providers: [JobLeaseRepository, ReconciliationScheduler],
})
export class SchedulerModule {}
