import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { MIGRATIONS } from './migrations/index.js';
import { pgliteDriver } from './pglite-pool.js';

/** Where the data lives, for people (never the password). */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'postgres') {
    const url = new URL(database.url);
    return `PostgreSQL database ${url.pathname.slice(1) || '(default)'} at ${url.host}`;
  }
  return database.dataDir ? `embedded PGlite in ${database.dataDir}` : 'embedded PGlite in memory';
}

/**
 * The one builder of TypeORM options, for the app and the CLI. It names no entity: the modules
 * register their own (autoLoadEntities), and a tool outside Nest passes the list in src/entities.ts.
 */
export function buildDataSourceOptions(database: DatabaseConfig, entities: DataSourceOptions['entities'] = []): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities,
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
