import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { PolicyModule } from '../policy/policy.module.js';
import { RunnersModule } from '../runners/runners.module.js';
import { SuspensionsModule } from '../suspensions/suspensions.module.js';
import { AdminController } from './admin.controller.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';
import { KillSwitchModule } from './kill-switch.module.js';

/** The admin API: every owner's runners, the audit trail and the kill switch, for identities the policy grants admin. */
@Module({
  imports: [PolicyModule, SuspensionsModule, RunnersModule, AuditModule, KillSwitchModule],
  controllers: [AdminController],
  providers: [AdminGuard, AdminService],
})
export class AdminModule {}
