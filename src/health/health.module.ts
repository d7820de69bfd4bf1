import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PolicyModule } from '../policy/policy.module.js';
import { DatabaseHealthIndicator } from './database-health.indicator.js';
import { Draining } from './draining.service.js';
import { HealthController } from './health.controller.js';
import { PolicyHealthIndicator } from './policy-health.indicator.js';
import { ProbesController } from './probes.controller.js';
import { ReadinessService } from './readiness.service.js';

@Module({
  // Terminus would log every failed probe at error, several a minute through an outage or a drain;
  // the database check logs its own changes instead.
  imports: [TerminusModule.forRoot({ logger: false }), PolicyModule],
  controllers: [HealthController, ProbesController],
  providers: [DatabaseHealthIndicator, PolicyHealthIndicator, Draining, ReadinessService],
  exports: [Draining],
})
export class HealthModule {}
