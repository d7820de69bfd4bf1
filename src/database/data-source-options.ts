import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config.js';
import { MIGRATIONS } from './migrations/index.js';
import { pgliteDriver } from './pglite-pool.js';
import { ReadTimeoutClosingClient } from './read-timeout-client.js';

/**
 * How long the HTTP service waits on PostgreSQL, so that a request answers 503
 * DATABASE_UNAVAILABLE within a few seconds when the server is down or out of reach, instead of
 * hanging: a connection not established within `connectMs` is given up (a link that drops packets
 * never refuses); the server cancels a statement after `statementMs` (the service's statements are
 * indexed lookups and small batches); the client gives up `readMs` after sending one when nothing
 * at all came back, and closes that connection (ReadTimeoutClosingClient).
 */
export const SERVICE_DATABASE_TIMEOUTS = { connectMs: 2_000, statementMs: 3_000, readMs: 3_500 } as const;
/** The CLI's commands are run by an operator and may take long (a prune, migrations): only the connection is bounded. */
const CLI_CONNECT_TIMEOUT_MS = 10_000;

/** Who uses the connection: the HTTP service (bounded waits) or a CLI command. */
export type DatabaseUser = 'service' | 'cli';

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
export function buildDataSourceOptions(
  database: DatabaseConfig,
  entities: DataSourceOptions['entities'] = [],
  user: DatabaseUser = 'cli',
): DataSourceOptions {
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
  if (user === 'cli') return { ...common, url: database.url, poolSize: 10, connectTimeoutMS: CLI_CONNECT_TIMEOUT_MS };
  const timeouts = SERVICE_DATABASE_TIMEOUTS;
  return {
    ...common,
    url: database.url,
    poolSize: 10,
    connectTimeoutMS: timeouts.connectMs,
    extra: {
      Client: ReadTimeoutClosingClient,
      statement_timeout: timeouts.statementMs,
      query_timeout: timeouts.readMs,
      // Lets the operating system notice a connection whose peer vanished while it sat idle in the pool.
      keepAlive: true,
    },
  };
}
