import { Module } from '@nestjs/common';
import { RunnersModule } from '../runners/runners.module.js';
import { SuspensionsModule } from '../suspensions/suspensions.module.js';
import { KillSwitchService } from './kill-switch.service.js';

/** The kill switch on its own, for the admin API and the CLI (which needs neither the policy nor the controller). */
@Module({
  imports: [SuspensionsModule, RunnersModule],
  providers: [KillSwitchService],
  exports: [KillSwitchService],
})
export class KillSwitchModule {}
