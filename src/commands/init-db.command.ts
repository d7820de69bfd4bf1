import { Inject } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Command, CommandRunner, Option } from 'nest-commander';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { describeDatabase } from '../database/data-source-options.js';
import { applyMigrations } from '../database/schema.js';
import { CliOutput } from './cli-output.service.js';

interface InitDbOptions {
  json?: boolean;
}

@Command({
  name: 'init-db',
  description: 'Create or upgrade the database schema (applies pending migrations; safe to run again)',
})
export class InitDbCommand extends CommandRunner {
  constructor(
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: InitDbOptions): Promise<void> {
    const applied = await applyMigrations(this.dataSource);
    const total = this.dataSource.migrations.length;
    const database = describeDatabase(this.config.database);
    if (options.json) {
      this.output.json({ database, applied, total_migrations: total });
      return;
    }
    if (applied.length === 0) {
      this.output.line(`Schema of ${database} is up to date (${total} migrations applied earlier).`);
      return;
    }
    for (const name of applied) this.output.line(`Applied ${name}`);
    this.output.line(`Schema of ${database} is up to date: applied ${applied.length} of ${total} migrations.`);
  }

  @Option({ flags: '--json', description: 'Print the result as JSON' })
  parseJson(): boolean {
    return true;
  }
}
