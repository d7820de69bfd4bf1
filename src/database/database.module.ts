import { type DynamicModule, Global, Inject, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { buildDataSourceOptions, type DatabaseUser } from './data-source-options.js';
import { DatabaseOutage } from './database-outage.service.js';
import { prepareSchema, type SchemaMode } from './schema.js';
import { Transactions } from './transactions.service.js';

const SCHEMA_MODE = Symbol('SCHEMA_MODE');

/** Prepares the schema before anything queries it: migrate (embedded, tests), verify (production). */
class SchemaPreparer implements OnModuleInit {
  constructor(
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
    @Inject(SCHEMA_MODE) private readonly mode: SchemaMode,
  ) {}

  async onModuleInit(): Promise<void> {
    try {
      await prepareSchema(this.dataSource, this.mode);
    } catch (error) {
      // Nest does not close modules when start-up fails: release the connections ourselves.
      await this.dataSource.destroy();
      throw error;
    }
  }
}

/**
 * The connection, the unit of work (Transactions) and what the process knows of the database's
 * outages (DatabaseOutage), for every module. Feature modules register their own entities
 * (TypeOrmModule.forFeature), which autoLoadEntities collects: this module knows no feature's tables.
 * `user`: the HTTP service bounds every wait on the database; a CLI command does not.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(schema: SchemaMode, user: DatabaseUser): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            ...buildDataSourceOptions(config.database, [], user),
            autoLoadEntities: true,
            // Fail fast at start rather than retrying a wrong DATABASE_URL for half a minute.
            retryAttempts: 0,
          }),
        }),
      ],
      providers: [{ provide: SCHEMA_MODE, useValue: schema }, SchemaPreparer, Transactions, DatabaseOutage],
      exports: [Transactions, DatabaseOutage],
    };
  }
}
