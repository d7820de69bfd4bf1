import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { startTestApp, type TestApp } from './support/app.js';

const REFUSED = (operation: string) =>
  new RegExp(`audit_events is append-only: ${operation} is refused; old events are removed only by prune_audit_events`);

/** Two old events and one of today, each named by its runner_name. */
async function seedEvents(t: TestApp): Promise<void> {
  await t.dataSource.query(
    `INSERT INTO audit_events (occurred_at, actor, actor_issuer, actor_subject, action, outcome, runner_name, details)
     VALUES ('2020-01-01T00:00:00Z', 'alice@example.com', 'https://issuer.test', 'alice-sub', 'provision', 'succeeded', 'old-1', '{}'),
            ('2020-06-01T00:00:00Z', 'alice@example.com', 'https://issuer.test', 'alice-sub', 'delete', 'succeeded', 'old-2', '{}'),
            (now(), 'bob@example.com', 'https://issuer.test', 'bob-sub', 'provision', 'succeeded', 'new-1', '{}')`,
  );
}

describe('audit_events is append-only (e2e)', () => {
  let t: TestApp;
  /** A role like the README's service role: every right on the table, but not its owner. */
  let serviceRole: string;

  const names = async (): Promise<string[]> =>
    (await t.dataSource.query(`SELECT runner_name FROM audit_events ORDER BY runner_name`)).map(
      (row: { runner_name: string }) => row.runner_name,
    );

  /** Runs `work` in one transaction as `serviceRole`. */
  const asServiceRole = <T>(work: (tx: EntityManager) => Promise<T>): Promise<T> =>
    t.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${serviceRole}`);
      return work(tx);
    });

  beforeAll(async () => {
    t = await startTestApp();
    serviceRole = `rts_test_service_${randomBytes(4).toString('hex')}`;
    await t.dataSource.query(`CREATE ROLE ${serviceRole} NOLOGIN`);
    await t.dataSource.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON audit_events TO ${serviceRole}`);
  });

  afterAll(async () => {
    if (serviceRole !== undefined) {
      await t?.dataSource.query(`DROP OWNED BY ${serviceRole}`);
      await t?.dataSource.query(`DROP ROLE ${serviceRole}`);
    }
    await t?.close();
  });

  beforeEach(async () => {
    await t.dataSource.query(`SELECT prune_audit_events(now())`);
    await seedEvents(t);
  });

  it("refuses an UPDATE from the service's connection, with the trigger's message", async () => {
    await expect(t.dataSource.query(`UPDATE audit_events SET outcome = 'denied' WHERE runner_name = 'old-1'`)).rejects.toThrow(REFUSED('UPDATE'));
    await expect(t.dataSource.query(`UPDATE audit_events SET details = '{}' WHERE false`)).rejects.toThrow(REFUSED('UPDATE'));
    const [row] = await t.dataSource.query(`SELECT outcome FROM audit_events WHERE runner_name = 'old-1'`);
    expect(row.outcome).toBe('succeeded');
  });

  it("refuses a DELETE and a TRUNCATE from the service's connection, with the trigger's message", async () => {
    await expect(t.dataSource.query(`DELETE FROM audit_events WHERE runner_name = 'old-1'`)).rejects.toThrow(REFUSED('DELETE'));
    await expect(t.dataSource.query(`DELETE FROM audit_events`)).rejects.toThrow(REFUSED('DELETE'));
    await expect(t.dataSource.query(`TRUNCATE audit_events`)).rejects.toThrow(REFUSED('TRUNCATE'));
    expect(await names()).toEqual(['new-1', 'old-1', 'old-2']);
  });

  it('refuses the same from a role with every right on the table that sets the prune setting itself', async () => {
    await expect(
      asServiceRole(async (tx) => {
        await tx.query(`SELECT set_config('rts.pruning_audit_events', 'on', true)`);
        await tx.query(`DELETE FROM audit_events`);
      }),
    ).rejects.toThrow(REFUSED('DELETE'));
    await expect(asServiceRole((tx) => tx.query(`UPDATE audit_events SET actor = 'someone else'`))).rejects.toThrow(REFUSED('UPDATE'));
    await expect(asServiceRole((tx) => tx.query(`TRUNCATE audit_events`))).rejects.toThrow(REFUSED('TRUNCATE'));
    // Appending is what the service does, and stays allowed.
    await asServiceRole((tx) =>
      tx.query(
        `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, runner_name, details)
         VALUES ('system:test', 'system', 'test', 'sync', 'succeeded', 'new-2', '{}')`,
      ),
    );
    expect(await names()).toEqual(['new-1', 'new-2', 'old-1', 'old-2']);
  });

  it('lets only a role granted EXECUTE call prune_audit_events, which removes exactly the events before the cut-off', async () => {
    await expect(asServiceRole((tx) => tx.query(`SELECT prune_audit_events('2021-01-01')`))).rejects.toThrow(
      /permission denied for function prune_audit_events/,
    );
    expect(await names()).toEqual(['new-1', 'old-1', 'old-2']);

    await t.dataSource.query(`GRANT EXECUTE ON FUNCTION prune_audit_events(timestamptz) TO ${serviceRole}`);
    try {
      const [{ removed }] = await asServiceRole((tx) => tx.query(`SELECT prune_audit_events('2020-06-01T00:00:00Z') AS removed`));
      expect(Number(removed)).toBe(1);
      expect(await names()).toEqual(['new-1', 'old-2']);
    } finally {
      await t.dataSource.query(`REVOKE EXECUTE ON FUNCTION prune_audit_events(timestamptz) FROM ${serviceRole}`);
    }
  });

  it('lets nothing else delete in the transaction that pruned: the exception ends with the call', async () => {
    await expect(
      t.dataSource.transaction(async (tx) => {
        await tx.query(`SELECT prune_audit_events('2020-03-01')`);
        await tx.query(`DELETE FROM audit_events`);
      }),
    ).rejects.toThrow(REFUSED('DELETE'));
    expect(await names()).toEqual(['new-1', 'old-1', 'old-2']);
  });

  it('refuses a cut-off in the future or none', async () => {
    await expect(t.dataSource.query(`SELECT prune_audit_events(now() + interval '1 minute')`)).rejects.toThrow(
      /the cut-off must be a time that has passed/,
    );
    await expect(t.dataSource.query(`SELECT prune_audit_events(NULL)`)).rejects.toThrow(/the cut-off must be a time that has passed/);
    expect(await names()).toEqual(['new-1', 'old-1', 'old-2']);
  });
});
