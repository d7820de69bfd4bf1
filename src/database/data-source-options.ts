import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { RunnerEntity } from '../runners/runner.entity.js';
import { SchedulerLeaseEntity } from '../scheduler/scheduler-lease.entity.js';
import { MIGRATIONS } from './migrations/index.js';
import { pgliteDriver } from './pglite-pool.js';

export const ENTITIES = [RunnerEntity, AuditEventEntity, SchedulerLeaseEntity];

/** Where the data lives, for people (never the password). */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'postgres') {
    const url = new URL(database.url);
    return `PostgreSQL database ${url.pathname.slice(1) || '(default)'} at ${url.host}`;
  }
  return database.dataDir ? `embedded PGlite in ${database.dataDir}` : 'embedded PGlite in memory';
}

/** The one builder of TypeORM options, for the app, the CLI and the TypeORM CLI's data-source.ts. */
export function buildDataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    // Schema changes go through migrations only.
    synchronize: false,
    migrationsRun: false,
    // PGlite has neither uuid-ossp nor pgcrypto; gen_random_uuid() is core since PostgreSQL 13.
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    applicationName: 'runner-token-service',
  };
  if (database.kind === 'pglite') {
    return { ...common, driver: pgliteDriver(database.dataDir) };
  }
  return { ...common, url: database.url, poolSize: 10, connectTimeoutMS: 10_000 };
}
