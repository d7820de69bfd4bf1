import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PolicyModule } from '../policy/policy.module.js';
import { Draining } from './draining.service.js';
import { HealthController } from './health.controller.js';
import { PolicyHealthIndicator } from './policy-health.indicator.js';

@Module({
  imports: [TerminusModule, PolicyModule],
  controllers: [HealthController],
  providers: [PolicyHealthIndicator, Draining],
  exports: [Draining],
})
export class HealthModule {}
