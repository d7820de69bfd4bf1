import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PolicyModule } from '../policy/policy.module.js';
import { HealthController } from './health.controller.js';
import { PolicyHealthIndicator } from './policy-health.indicator.js';

@Module({
  imports: [TerminusModule, PolicyModule],
  controllers: [HealthController],
  providers: [PolicyHealthIndicator],
})
export class HealthModule {}
