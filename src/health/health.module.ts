import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PolicyModule } from '../policy/policy.module.js';
import { Draining } from './draining.service.js';
import { HealthController } from './health.controller.js';
import { PolicyHealthIndicator } from './policy-health.indicator.js';
import { ProbesController } from './probes.controller.js';
import { ReadinessService } from './readiness.service.js';

@Module({
  imports: [TerminusModule, PolicyModule],
  controllers: [HealthController, ProbesController],
  providers: [PolicyHealthIndicator, Draining, ReadinessService],
  exports: [Draining],
})
export class HealthModule {}
