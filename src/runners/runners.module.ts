import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { GithubModule } from '../github/github.module.js';
import { RunnersController } from './runners.controller.js';
import { RunnersRepository } from './runners.repository.js';
import { RunnersService } from './runners.service.js';

@Module({
  imports: [AuditModule, GithubModule],
  controllers: [RunnersController],
  providers: [RunnersRepository, RunnersService],
  exports: [RunnersService],
})
export class RunnersModule {}
