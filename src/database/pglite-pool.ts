import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';

type Callback<T> = (error: Error | null, result?: T) => void;

/**
 * A `pg`-compatible pool over one PGlite instance, for TypeORM's postgres driver (`driver:`).
 *
 * PGlite is a single session. `typeorm-pglite` hands that one session to every TypeORM query runner
 * at once, so two concurrent requests interleave their BEGIN/COMMIT and corrupt each other's
 * transactions. This pool lends the session to one query runner at a time: `connect` waits until
 * the previous borrower released it. Code that holds a transaction must therefore run every query
 * of that work through the transaction's manager (which is correct on PostgreSQL too).
 */
export class PGlitePool extends EventEmitter {
  private readonly db: Promise<PGlite>;
  private readonly client: PGliteClient;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(dataDir: string | undefined) {
    super();
    this.db = PGlite.create({
      dataDir,
      // TypeORM sends booleans as JS values; PGlite's default serializer rejects 'true'/'false' strings.
      serializers: { [types.BOOL]: serializeBoolean },
    });
    this.client = new PGliteClient(this.db);
  }

  connect(callback: (error: Error | null, client?: PGliteClient, release?: (error?: unknown) => void) => void): void {
    if (this.closed) {
      callback(new Error('The embedded database is closed'));
      return;
    }
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.queue;
    this.queue = previous.then(() => turn);
    previous
      .then(() => this.db)
      .then(
        () => {
          let released = false;
          callback(null, this.client, () => {
            if (!released) {
              released = true;
              release();
            }
          });
        },
        (error: Error) => {
          release();
          callback(error);
        },
      );
  }

  /** Queries outside a borrowed session (TypeORM does not issue any; kept for pg compatibility). */
  query(sql: string, params?: unknown[] | Callback<unknown>, callback?: Callback<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.connect((error, client, release) => {
        if (error || !client || !release) return reject(error);
        client.query(sql, params as unknown[]).then(
          (result) => {
            release();
            const cb = typeof params === 'function' ? params : callback;
            cb?.(null, result);
            resolve(result);
          },
          (queryError: Error) => {
            release();
            reject(queryError);
          },
        );
      });
    });
  }

  end(callback?: (error?: Error | null) => void): Promise<void> {
    this.closed = true;
    const done = this.queue
      .then(() => this.db)
      .then((db) => db.close())
      .then(
        () => callback?.(null),
        (error: Error) => callback?.(error),
      );
    return done;
  }
}

class PGliteClient extends EventEmitter {
  constructor(private readonly db: Promise<PGlite>) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<unknown> {
    const db = await this.db;
    if (params && params.length > 0) return db.query(sql, params);
    // exec runs several statements (migrations); TypeORM expects the last statement's result.
    const results = await db.exec(sql);
    return results[results.length - 1] ?? { rows: [], rowCount: 0 };
  }
}

function serializeBoolean(value: unknown): string {
  if (value === true || value === 'true' || value === 1) return 'TRUE';
  if (value === false || value === 'false' || value === 0) return 'FALSE';
  return String(value);
}

/** A TypeORM `driver:` module object whose Pool is PGlitePool for the given data folder. */
export function pgliteDriver(dataDir: string | undefined): { Pool: new () => PGlitePool } {
  return {
    Pool: class extends PGlitePool {
      constructor() {
        super(dataDir);
      }
    },
  };
}
