import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { GithubModule } from '../github/github.module.js';
import { ProvisioningAttempts } from './provisioning-attempts.js';
import { ReconciliationService } from './reconciliation.service.js';
import { RegistrationTokensService } from './registration-tokens.service.js';
import { RunnersController } from './runners.controller.js';
import { RunnersRepository } from './runners.repository.js';
import { RunnersService } from './runners.service.js';

@Module({
  imports: [AuditModule, GithubModule],
  controllers: [RunnersController],
  providers: [RunnersRepository, ProvisioningAttempts, RunnersService, RegistrationTokensService, ReconciliationService],
  exports: [RunnersService, ReconciliationService],
})
export class RunnersModule {}
