/**
 * Runs the CLI in-process for e2e tests and gives it a database the HTTP app can fill first.
 * PGlite is one process's database: the app is closed before the CLI opens the same folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { DataSource } from 'typeorm';
import type { AppConfig, DatabaseConfig } from '../../src/config/app-config.js';
import { runCli, type RunCliOptions } from '../../src/commands/run-cli.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { GithubSimulator } from '../../src/github/simulator/github-simulator.js';
import { startTestApp, type TestApp } from './app.js';
import { testDatabaseConfig } from './database.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process as `node dist/cli.js ...args` and captures what it prints. */
export function cli(config: AppConfig, ...args: string[]): Promise<CliResult> {
  return cliWith({}, config, ...args);
}

/** As cli(), with cli.ts's options (the stop signal that Ctrl-C fires). */
export async function cliWith(options: RunCliOptions, config: AppConfig, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  // Like a stream, the callback of a write (if any) is called once the chunk is taken.
  const capture = (append: (text: string) => void) => (chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown) => {
    append(chunk.toString());
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture((text) => (stdout += text)) as typeof process.stdout.write);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture((text) => (stderr += text)) as typeof process.stderr.write);
  try {
    const code = await runCli(['node', 'cli.js', ...args], config, options);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

export interface SharedDatabase {
  config: DatabaseConfig;
  /** DATABASE_URL for loadConfig. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh database that outlives one process's connection: PostgreSQL, or PGlite in a folder. */
export async function sharedDatabase(): Promise<SharedDatabase> {
  const database = await testDatabaseConfig();
  if (database.config.kind === 'postgres') return { config: database.config, url: database.config.url, drop: database.drop };
  const dataDir = mkdtempSync(join(tmpdir(), 'rts-cli-'));
  return {
    config: { kind: 'pglite', dataDir },
    url: `pglite://${dataDir}`,
    drop: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/**
 * Starts the whole service on `database` with `simulator` as GitHub, lets `seed` use it (HTTP
 * requests, SQL), and closes it again. Returns the service's configuration, to build the CLI's from.
 */
export async function seedThroughApp(
  database: SharedDatabase,
  simulator: GithubSimulator,
  seed: (t: TestApp) => Promise<void>,
): Promise<AppConfig> {
  const t = await startTestApp({ database: database.config, simulator });
  try {
    await seed(t);
    return t.config;
  } finally {
    await t.close();
  }
}

/** Runs SQL against `database` between CLI runs (a short-lived connection). */
export async function query<T = Record<string, unknown>>(database: SharedDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  const dataSource = new DataSource(buildDataSourceOptions(database.config));
  await dataSource.initialize();
  try {
    return (await dataSource.query(sql, params)) as T[];
  } finally {
    await dataSource.destroy();
  }
}
