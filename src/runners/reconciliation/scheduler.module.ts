import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { GithubModule } from '../../github/github.module.js';
import { RunnersModule } from '../runners.module.js';
import { ReconciliationScheduler } from './reconciliation.scheduler.js';

/** The background sync and cleanup. Only the HTTP service imports this module; the CLI never does. */
@Module({
  imports: [ScheduleModule.forRoot(), GithubModule, RunnersModule],
  providers: [ReconciliationScheduler],
})
export class SchedulerModule {}
