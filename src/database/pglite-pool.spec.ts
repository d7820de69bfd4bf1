import { PGlitePool } from './pglite-pool.js';

/** A short wait limit, so a session that is never handed on fails a test instead of hanging it. */
const WAIT_LIMIT_MS = 200;

interface Loan {
  client: { query(sql: string, params?: unknown[]): Promise<unknown> };
  release: (error?: unknown) => void;
}

function borrow(pool: PGlitePool): Promise<Loan> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client, release) => {
      if (error || !client || !release) reject(error ?? new Error('no session'));
      else resolve({ client, release });
    });
  });
}

async function rowsOf(loan: Loan, sql: string): Promise<Record<string, unknown>[]> {
  return ((await loan.client.query(sql)) as { rows: Record<string, unknown>[] }).rows;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PGlitePool', () => {
  // One in-memory database for all tests (starting PGlite takes a second or two); each uses its own table.
  let pool: PGlitePool;

  beforeAll(() => {
    pool = new PGlitePool(undefined, { sessionWaitLimitMs: WAIT_LIMIT_MS });
  });

  afterAll(async () => {
    await pool.end();
  });

  it('lends the session to the next borrower only after the previous one released it', async () => {
    const events: string[] = [];
    const first = await borrow(pool);
    const second = borrow(pool).then((loan) => {
      events.push('second borrowed');
      return loan;
    });
    await rowsOf(first, 'SELECT 1');
    await delay(50);
    events.push('first releases');
    first.release();
    const loan = await second;
    expect(events).toEqual(['first releases', 'second borrowed']);
    expect(await rowsOf(loan, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    loan.release();
  });

  it('rolls back the transaction of a borrower released with an error before lending the session on', async () => {
    const setup = await borrow(pool);
    await rowsOf(setup, 'CREATE TABLE abandoned (id int)');
    setup.release();

    const broken = await borrow(pool);
    await rowsOf(broken, 'BEGIN');
    await rowsOf(broken, 'INSERT INTO abandoned VALUES (1)');
    broken.release(new Error('ROLLBACK failed'));

    const next = await borrow(pool);
    // Inside the abandoned transaction the row would still be visible to this session.
    expect(await rowsOf(next, 'SELECT count(*)::int AS count FROM abandoned')).toEqual([{ count: 0 }]);
    // Outside a transaction every statement starts its own, so now() is the statement's time.
    expect(await rowsOf(next, 'SELECT now() = statement_timestamp() AS fresh')).toEqual([{ fresh: true }]);
    await rowsOf(next, 'BEGIN');
    await rowsOf(next, 'INSERT INTO abandoned VALUES (2)');
    await rowsOf(next, 'COMMIT');
    expect(await rowsOf(next, 'SELECT id FROM abandoned')).toEqual([{ id: 2 }]);
    next.release();
  });

  // The control for the test above: only a release with an error rolls back.
  it('hands the session on as it is after a release without an error', async () => {
    const first = await borrow(pool);
    await rowsOf(first, 'CREATE TABLE kept (id int)');
    await rowsOf(first, 'BEGIN');
    await rowsOf(first, 'INSERT INTO kept VALUES (1)');
    first.release();

    const next = await borrow(pool);
    expect(await rowsOf(next, 'SELECT count(*)::int AS count FROM kept')).toEqual([{ count: 1 }]);
    await rowsOf(next, 'ROLLBACK');
    next.release();
  });

  it('answers a borrower that waited past the limit with an error, and still serves later borrowers in order', async () => {
    const holder = await borrow(pool);
    const timedOutCalls: unknown[][] = [];
    const timedOut = new Promise<Error | null>((resolve) =>
      pool.connect((...args) => {
        timedOutCalls.push(args);
        resolve(args[0]);
      }),
    );
    await delay(WAIT_LIMIT_MS / 2);
    const events: string[] = [];
    const second = borrow(pool).then((loan) => (events.push('second'), loan));

    const error = await timedOut;
    expect(error?.message).toBe(
      `The embedded database (PGlite) session was held for more than ${WAIT_LIMIT_MS / 1000} s: ` +
        "a query probably ran outside its transaction's manager",
    );
    holder.release();
    const third = borrow(pool).then((loan) => (events.push('third'), loan));

    const secondLoan = await second;
    expect(await rowsOf(secondLoan, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await delay(50);
    expect(events).toEqual(['second']);
    secondLoan.release();
    const thirdLoan = await third;
    expect(events).toEqual(['second', 'third']);
    thirdLoan.release();
    // The borrower that gave up is never lent the session afterwards.
    expect(timedOutCalls).toHaveLength(1);
  });

  describe('query', () => {
    it('takes a callback in place of the parameters', async () => {
      const outcome = await new Promise<unknown[]>((resolve) => {
        const returned = pool.query('SELECT 1 AS one', (error, result) => resolve([error, result, returned]));
      });
      expect(outcome[0]).toBeNull();
      expect((outcome[1] as { rows: unknown[] }).rows).toEqual([{ one: 1 }]);
      expect(outcome[2]).toBeUndefined();
    });

    it('passes parameters and a callback', async () => {
      const rows = await new Promise<unknown>((resolve, reject) =>
        pool.query('SELECT $1::int AS n', [7], (error, result) => (error ? reject(error) : resolve(result))),
      );
      expect((rows as { rows: unknown[] }).rows).toEqual([{ n: 7 }]);
    });

    it('calls the callback with the error of a failing query and releases the session', async () => {
      const error = await new Promise<Error | null>((resolve) =>
        pool.query('SELECT * FROM missing_table', (queryError) => resolve(queryError)),
      );
      expect(error?.message).toMatch(/missing_table/);
      // Within the wait limit, so a session that was not released fails here.
      const loan = await borrow(pool);
      expect(await rowsOf(loan, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      loan.release();
    });

    it('returns a promise without a callback, rejecting on error and releasing either way', async () => {
      await expect(pool.query('SELECT $1::int AS n', [3])).resolves.toMatchObject({ rows: [{ n: 3 }] });
      await expect(pool.query('SELECT * FROM missing_table')).rejects.toThrow(/missing_table/);
      const loan = await borrow(pool);
      loan.release();
    });
  });
});
