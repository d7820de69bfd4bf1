import { Module } from '@nestjs/common';
import { PolicyService } from './policy.service.js';
import { PolicyStore } from './policy.store.js';

/** The access policy: trusted issuers (for AuthModule) and rules (for provisioning and admin). */
@Module({
  providers: [PolicyStore, PolicyService],
  exports: [PolicyStore, PolicyService],
})
export class PolicyModule {}
