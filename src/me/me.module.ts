import { Module } from '@nestjs/common';
import { PolicyModule } from '../policy/policy.module.js';
import { RunnersModule } from '../runners/runners.module.js';
import { SuspensionsModule } from '../suspensions/suspensions.module.js';
import { MeController } from './me.controller.js';
import { MeService } from './me.service.js';

/** GET /me: the caller's identity, rule, grant and usage. */
@Module({
  imports: [PolicyModule, RunnersModule, SuspensionsModule],
  controllers: [MeController],
  providers: [MeService],
})
export class MeModule {}
