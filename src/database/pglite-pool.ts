import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';

type Callback<T> = (error: Error | null, result?: T) => void;
type Release = (error?: unknown) => void;
type ConnectCallback = (error: Error | null, client?: PGliteClient, release?: Release) => void;

/**
 * How long a borrower waits for the session before it gets an error. Work that holds the session this
 * long is stuck, typically on a query issued outside its transaction's manager, which waits for the
 * session its own transaction holds.
 */
export const SESSION_WAIT_LIMIT_MS = 30_000;

export interface PGlitePoolOptions {
  /** Default SESSION_WAIT_LIMIT_MS; tests use a short one. */
  sessionWaitLimitMs?: number;
}

interface Waiter {
  callback: ConnectCallback;
  timer: NodeJS.Timeout;
}

/**
 * PostgreSQL's memory settings for the embedded database, sized for the demo and the tests (a few
 * thousand rows): PGlite's own defaults (128 MB of shared buffers) take more memory than all the
 * rest of the service (the demo after 1,000 JITs: 586 MiB RSS with them, 438 MiB with these).
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'maintenance_work_mem=16MB', '-c', 'temp_buffers=2MB'];

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
  private readonly sessionWaitLimitMs: number;
  private readonly waiters: Waiter[] = [];
  private readonly idleListeners: (() => void)[] = [];
  private lent = false;
  private closed = false;

  constructor(dataDir: string | undefined, options: PGlitePoolOptions = {}) {
    super();
    this.sessionWaitLimitMs = options.sessionWaitLimitMs ?? SESSION_WAIT_LIMIT_MS;
    this.db = PGlite.create({
      dataDir,
      startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS],
      // TypeORM sends booleans as JS values; PGlite's default serializer rejects 'true'/'false' strings.
      serializers: { [types.BOOL]: serializeBoolean },
    });
    this.client = new PGliteClient(this.db);
  }

  connect(callback: ConnectCallback): void {
    if (this.closed) {
      callback(new Error('The embedded database is closed'));
      return;
    }
    if (!this.lent) {
      this.lend(callback);
      return;
    }
    const waiter: Waiter = {
      callback,
      timer: setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const seconds = this.sessionWaitLimitMs / 1000;
        callback(
          new Error(
            `The embedded database (PGlite) session was held for more than ${seconds} s: ` +
              "a query probably ran outside its transaction's manager",
          ),
        );
      }, this.sessionWaitLimitMs),
    };
    this.waiters.push(waiter);
  }

  private lend(callback: ConnectCallback): void {
    this.lent = true;
    this.db.then(
      () => {
        let released = false;
        callback(null, this.client, (error?: unknown) => {
          if (released) return;
          released = true;
          if (!error) {
            this.handOn();
            return;
          }
          // pg destroys a client released with an error; the one session can only be cleaned, so that
          // no one inherits a transaction its borrower left open (ROLLBACK outside one only warns).
          this.db
            .then((db) => db.exec('ROLLBACK'))
            .catch(() => undefined)
            .then(() => this.handOn());
        });
      },
      (error: Error) => {
        this.handOn();
        callback(error);
      },
    );
  }

  /** Lends the session to the longest waiter, or marks it free. */
  private handOn(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      this.lend(next.callback);
      return;
    }
    this.lent = false;
    for (const listener of this.idleListeners.splice(0)) listener();
  }

  /** Queries outside a borrowed session (TypeORM does not issue any; kept for pg compatibility). */
  query(sql: string, params?: unknown[]): Promise<unknown>;
  query(sql: string, callback: Callback<unknown>): void;
  query(sql: string, params: unknown[] | undefined, callback: Callback<unknown>): void;
  query(
    sql: string,
    paramsOrCallback?: unknown[] | Callback<unknown>,
    maybeCallback?: Callback<unknown>,
  ): Promise<unknown> | void {
    const callback = typeof paramsOrCallback === 'function' ? paramsOrCallback : maybeCallback;
    const params = typeof paramsOrCallback === 'function' ? undefined : paramsOrCallback;
    const result = new Promise<unknown>((resolve, reject) => {
      this.connect((error, client, release) => {
        if (error || !client || !release) return reject(error ?? new Error('The embedded database lent no session'));
        client.query(sql, params).then(
          (rows) => {
            release();
            resolve(rows);
          },
          (queryError: Error) => {
            release(queryError);
            reject(queryError);
          },
        );
      });
    });
    // Like pg: with a callback the outcome goes to the callback only, so nothing is left unhandled.
    if (!callback) return result;
    result.then(
      (rows) => callback(null, rows),
      (error: Error) => callback(error),
    );
  }

  end(callback?: (error?: Error | null) => void): Promise<void> {
    this.closed = true;
    // Borrowers already waiting are served first, as before the pool closed.
    const idle = this.lent ? new Promise<void>((resolve) => this.idleListeners.push(resolve)) : Promise.resolve();
    return idle
      .then(() => this.db)
      .then((db) => db.close())
      .then(
        () => callback?.(null),
        (error: Error) => callback?.(error),
      );
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
