import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { ConfigModule } from '../config/config.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { InitDbCommand } from './init-db.command.js';
import { CliOutput } from './output.js';

/**
 * The CLI's composition root: the same modules as the service, without HTTP and without the
 * scheduler. The schema is left alone at start: init-db is how it gets created.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot('none')],
      providers: [CliOutput, InitDbCommand],
    };
  }
}
