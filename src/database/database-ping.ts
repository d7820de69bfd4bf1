import type { DataSource } from 'typeorm';

/** The database did not answer in time (a hung connection, an overloaded server). */
export class DatabaseTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DatabaseTimeout';
  }
}

/** `work`, or DatabaseTimeout once `ms` have passed without an answer. */
export function withDatabaseTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DatabaseTimeout(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Whether the database answers `SELECT 1` within `ms`: resolves, or throws what went wrong. */
export async function pingDatabase(dataSource: DataSource, ms: number): Promise<void> {
  await withDatabaseTimeout(dataSource.query('SELECT 1'), ms);
}
