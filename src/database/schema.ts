import type { DataSource } from 'typeorm';

/** How a process treats the schema at start: apply migrations, require them applied, or leave it. */
export type SchemaMode = 'migrate' | 'verify' | 'none';

export class SchemaNotReadyError extends Error {
  constructor(pending: number) {
    super(
      `The database lacks ${pending} migration(s): run \`node dist/cli.js init-db\` (or \`npm run cli -- init-db\`) first`,
    );
    this.name = 'SchemaNotReadyError';
  }
}

/** Applies every pending migration (each in its own transaction); safe to run any number of times. */
export async function applyMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((migration) => migration.name);
}

/** Counts migrations not yet applied. */
export async function countPendingMigrations(dataSource: DataSource): Promise<number> {
  const applied = new Set<string>();
  const [{ exists }]: { exists: boolean }[] = await dataSource.query(
    `SELECT to_regclass('migrations') IS NOT NULL AS "exists"`,
  );
  if (exists) {
    const rows: { name: string }[] = await dataSource.query(`SELECT "name" FROM "migrations"`);
    for (const row of rows) applied.add(row.name);
  }
  return dataSource.migrations.filter((migration) => !applied.has(migration.name ?? migration.constructor.name)).length;
}

export async function prepareSchema(dataSource: DataSource, mode: SchemaMode): Promise<void> {
  if (mode === 'migrate') await applyMigrations(dataSource);
  if (mode === 'verify') {
    const pending = await countPendingMigrations(dataSource);
    if (pending > 0) throw new SchemaNotReadyError(pending);
  }
}
