import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { SuspensionEntity } from './suspension.entity.js';
import { SuspensionsRepository } from './suspensions.repository.js';
import { SuspensionsService } from './suspensions.service.js';

/**
 * Suspensions (the kill switch's record). Knows no runners, so that provisioning (in RunnersModule)
 * can import it to check a caller; the admin module combines it with runner removal.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SuspensionEntity]), AuditModule],
  providers: [SuspensionsRepository, SuspensionsService],
  exports: [SuspensionsService],
})
export class SuspensionsModule {}
