import { jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { DatabaseOutage } from './database-outage.service.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A database that is down until `up` is set; every query is counted. */
class FakeDatabase {
  up = false;
  queries = 0;

  async query(): Promise<unknown> {
    this.queries++;
    if (!this.up) throw refused();
    return [{ '?column?': 1 }];
  }
}

describe('DatabaseOutage', () => {
  let database: FakeDatabase;
  let outage: DatabaseOutage;
  let logged: { level: string; message: string }[];

  beforeEach(() => {
    jest.useFakeTimers();
    database = new FakeDatabase();
    outage = new DatabaseOutage(database as unknown as DataSource);
    logged = [];
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(outage['logger'], level).mockImplementation((...args: unknown[]) => {
        logged.push({ level, message: String(args.find((arg) => typeof arg === 'string')) });
      });
    }
  });

  afterEach(async () => {
    await outage.onModuleDestroy();
    jest.useRealTimers();
  });

  it('logs an outage once at warn, each refused request at debug, and the recovery with the count, on its own', async () => {
    for (let i = 0; i < 3; i++) outage.noticeRefusal(refused(), `req-${i}`);
    expect(outage.unavailableSince).not.toBeNull();
    expect(logged.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      expect.stringMatching(/^Database unavailable \(ECONNREFUSED\).*first refused request req-0/),
    ]);
    expect(logged.filter((line) => line.level === 'debug')).toHaveLength(2);

    // Still down: tried again, later and later.
    await jest.advanceTimersByTimeAsync(10_000);
    const triesWhileDown = database.queries;
    expect(triesWhileDown).toBeGreaterThan(1);
    expect(triesWhileDown).toBeLessThan(10);

    database.up = true;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(outage.unavailableSince).toBeNull();
    expect(logged.at(-1)).toEqual({ level: 'log', message: expect.stringMatching(/^Database available again after .*: 3 request\(s\) were answered 503/) });

    // Nothing more to do: no more queries.
    const queries = database.queries;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(database.queries).toBe(queries);
  });

  it('makes the kept writes oldest first once the database answers, keeps one that finds it down again, and drops one that fails otherwise', async () => {
    const written: string[] = [];
    let secondFailsOnce = true;
    outage.keep('the first', async () => void written.push('first'), refused());
    outage.keep(
      'the second',
      async () => {
        if (secondFailsOnce) {
          secondFailsOnce = false;
          throw refused();
        }
        written.push('second');
      },
      refused(),
    );
    outage.keep('the broken one', async () => Promise.reject(new Error('violates check constraint')), refused());
    outage.keep('the last', async () => void written.push('last'), refused());
    expect(outage.keptWrites).toBe(4);

    database.up = true;
    // The first try comes a quarter of a second after the outage began.
    await jest.advanceTimersByTimeAsync(300);
    // The second found the database down again: it and those after it wait for the next try.
    expect(written).toEqual(['first']);
    expect(outage.unavailableSince).not.toBeNull();

    await jest.advanceTimersByTimeAsync(5_000);
    expect(written).toEqual(['first', 'second', 'last']);
    expect(outage.keptWrites).toBe(0);
    expect(logged).toContainEqual({ level: 'error', message: expect.stringMatching(/^Could not write the broken one .*violates check constraint/) });
  });

  it('tries the kept writes once more on shutdown, and logs those it could not make', async () => {
    outage.keep('the close of build-1', async () => Promise.reject(refused()), refused());
    await outage.onModuleDestroy();
    expect(logged.at(-1)).toEqual({
      level: 'error',
      message: expect.stringMatching(/^Stopping with the close of build-1 not written .*the next sync resolves it/),
    });
  });
});
