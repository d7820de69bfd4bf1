import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RunnersModule } from '../runners/runners.module.js';
import { JobLeaseRepository } from './job-lease.repository.js';
import { ReconciliationScheduler } from './reconciliation.scheduler.js';

/** The background jobs. Only the HTTP service imports this module; the CLI never does. */
@Module({
  imports: [ScheduleModule.forRoot(), RunnersModule],
  providers: [JobLeaseRepository, ReconciliationScheduler],
})
export class SchedulerModule {}
