/**
 * Every runner accounted for: the sync says which runners of the org this service did not issue
 * (foreign), reports each once across syncs and instances, lists them (CLI, admin API), and with
 * FOREIGN_RUNNERS=remove removes those offline and idle. KNOWN_RUNNER_NAMES is never foreign.
 */
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { GithubClient } from '../src/github/github.client.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import type { SimulatedRunner } from '../src/github/simulator/runner.store.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { adminPolicy } from './support/admin.js';
import { startTestApp, type TestApp } from './support/app.js';
import { testDatabaseConfig } from './support/database.js';
import type { PolicyFile } from './support/policy.js';
import { insertRunners } from './support/runners.js';

const ADMIN = '/api/v1/admin';
const KNOWN = [/^(?:arc-.*)$/u];
const ops = Actor.system('test');

interface ForeignEvent {
  action: string;
  outcome: string;
  runner_name: string;
  details: { github_runner_id: number; name: string; error_code?: string };
}

const foreignEvents = (t: TestApp): Promise<ForeignEvent[]> =>
  t.dataSource.query(
    `SELECT action, outcome, runner_name, details FROM audit_events WHERE action LIKE 'foreign_runner%' ORDER BY occurred_at, runner_name`,
  );

describe('Foreign runners: reported (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;
  let admin: string;
  let sync: () => ReturnType<GithubSyncService['syncWithGithub']>;
  let foreign: Record<'laptop' | 'hostile' | 'evilArc' | 'notTheRows', SimulatedRunner>;

  beforeAll(async () => {
    policy = adminPolicy('admin-sub');
    t = await startTestApp({ policyFile: policy.path, runners: { knownRunnerNames: KNOWN } });
    admin = await t.oidc.token({ sub: 'admin-sub', email: 'admin@example.com' });
    sync = () => t.app.get(GithubSyncService).syncWithGithub(ops);

    // Ours: a JIT runner issued now, and one whose row is deleted but which GitHub still lists.
    const provisioned = await request(t.server)
      .post('/api/v1/runners/jit')
      .auth(await t.oidc.token({ sub: 'dana-sub' }), { type: 'bearer' })
      .send({ runner_name: 'ours-jit' });
    expect(provisioned.status).toBe(201);
    const [oldOurs] = t.simulator.addRunners(1, { namePrefix: 'old-ours', status: 'offline' });
    // A JIT request still waiting for GitHub's answer: GitHub has the runner, the row not its id yet.
    const [inFlight] = t.simulator.addRunners(1, { namePrefix: 'in-flight', status: 'offline', os: 'unknown' });
    // A registration-token runner the sync adopts by name.
    const [adopted] = t.simulator.addRunners(1, { namePrefix: 'config-sh', status: 'offline' });
    // Runners ARC manages: known.
    t.simulator.addRunners(2, { namePrefix: 'arc-runner', status: 'online' });
    foreign = {
      laptop: t.simulator.addRunners(1, { namePrefix: 'someones-laptop', status: 'online' })[0],
      // A name meant to mislead a terminal, and one that contains a known name without being one.
      hostile: t.simulator.addRunners(1, { namePrefix: '\u001b[2J\u001b[31mred', status: 'offline' })[0],
      evilArc: t.simulator.addRunners(1, { namePrefix: 'evil-arc-runner', status: 'offline' })[0],
      // Under a pending registration row's name, but registered before its token: not the row's.
      notTheRows: t.simulator.addRunners(1, { namePrefix: 'taken-name', status: 'offline' })[0],
    };
    await insertRunners(t.dataSource, [
      { name: oldOurs.name, githubRunnerId: oldOurs.id, status: 'deleted' },
      { name: inFlight.name, githubRunnerId: null },
      { name: adopted.name, kind: 'registration_token' },
      { name: foreign.notTheRows.name, kind: 'registration_token' },
    ]);
    await t.dataSource.query(`UPDATE runners SET github_runner_id_floor = $1 WHERE name = $2`, [foreign.notTheRows.id, foreign.notTheRows.name]);
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  const foreignIds = () => Object.values(foreign).map((runner) => runner.id).sort((a, b) => a - b);

  it('counts and reports, the first time, exactly the runners this service did not issue and no known name matches', async () => {
    const report = await sync();

    expect(report.not_ours.map((item) => item.runner_name)).toEqual([foreign.notTheRows.name]);
    expect(report.foreign).toMatchObject({ policy: 'report', total: 4, removed: [], failed: [] });
    expect(report.foreign.new.map((item) => item.github_runner_id).sort((a, b) => a - b)).toEqual(foreignIds());
    const events = await foreignEvents(t);
    expect(events.map((event) => event.details.github_runner_id).sort((a, b) => a - b)).toEqual(foreignIds());
    expect(events.every((event) => event.action === 'foreign_runner' && event.outcome === 'succeeded')).toBe(true);
    expect(events.find((event) => event.details.github_runner_id === foreign.laptop.id)).toMatchObject({
      runner_name: foreign.laptop.name,
      details: { name: foreign.laptop.name, status: 'online', busy: false, labels: ['self-hosted', 'Linux', 'X64'] },
    });
    expect(t.logs.filter((line) => line.includes('Foreign runner on GitHub'))).toHaveLength(4);
  });

  it('does not report them again on the next sync, and still counts them', async () => {
    const report = await sync();
    expect(report.foreign).toMatchObject({ total: 4, new: [] });
    expect(await foreignEvents(t)).toHaveLength(4);
  });

  it('lists them on the admin API a page at a time, each exactly once, admins only', async () => {
    const first = await request(t.server).get(`${ADMIN}/foreign-runners?limit=3`).auth(admin, { type: 'bearer' });
    expect(first.status).toBe(200);
    expect(first.body.foreign_runners).toHaveLength(3);
    expect(first.body.next).toBe(`${ADMIN}/foreign-runners?limit=3&cursor=${first.body.next_cursor}`);
    const second = await request(t.server).get(first.body.next).auth(admin, { type: 'bearer' });
    expect(second.body).toMatchObject({ next_cursor: null, next: null });
    const listed = [...first.body.foreign_runners, ...second.body.foreign_runners];
    expect(listed.map((runner: { github_runner_id: number }) => runner.github_runner_id).sort((a: number, b: number) => a - b)).toEqual(foreignIds());
    expect(listed.find((runner: { name: string }) => runner.name === foreign.hostile.name)).toEqual({
      github_runner_id: foreign.hostile.id,
      name: foreign.hostile.name,
      status: 'offline',
      busy: false,
      labels: ['self-hosted', 'Linux', 'X64'],
      first_seen_at: expect.any(String),
      last_seen_at: expect.any(String),
    });

    const notAdmin = await request(t.server).get(`${ADMIN}/foreign-runners`).auth(await t.oidc.token({ sub: 'dana-sub' }), { type: 'bearer' });
    expect(notAdmin.status).toBe(403);
    const badCursor = await request(t.server).get(`${ADMIN}/foreign-runners?cursor=bm90LWEtdXVpZA`).auth(admin, { type: 'bearer' });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('drops one GitHub no longer has from the list; a new one is reported once', async () => {
    await t.app.get(GithubClient).deleteRunner(foreign.laptop.id);
    const [newcomer] = t.simulator.addRunners(1, { namePrefix: 'newcomer', status: 'offline' });

    const report = await sync();

    expect(report.foreign).toMatchObject({ total: 4, new: [expect.objectContaining({ github_runner_id: newcomer.id })] });
    const listed = await request(t.server).get(`${ADMIN}/foreign-runners`).auth(admin, { type: 'bearer' });
    const names = listed.body.foreign_runners.map((runner: { name: string }) => runner.name);
    expect(names).toContain(newcomer.name);
    expect(names).not.toContain(foreign.laptop.name);
    expect(await foreignEvents(t)).toHaveLength(5);
  });
});

describe('Foreign runners: FOREIGN_RUNNERS=remove (e2e)', () => {
  let t: TestApp;
  let sync: () => ReturnType<GithubSyncService['syncWithGithub']>;

  beforeAll(async () => {
    t = await startTestApp({ runners: { knownRunnerNames: KNOWN, foreignRunners: 'remove', pendingGraceMinutes: 60 } });
    sync = () => t.app.get(GithubSyncService).syncWithGithub(ops);
  });

  afterAll(async () => {
    await t?.close();
  });

  /** As if the sync had first seen every foreign runner two hours ago. */
  const seenLongAgo = () => t.dataSource.query(`UPDATE foreign_runners SET first_seen_at = now() - interval '2 hours'`);

  it('removes only foreign runners that are offline and idle, foreign for the grace period, and still so when read again', async () => {
    const [idle] = t.simulator.addRunners(1, { namePrefix: 'idle', status: 'offline' });
    const [busy] = t.simulator.addRunners(1, { namePrefix: 'busy', status: 'offline', busy: true });
    const [online] = t.simulator.addRunners(1, { namePrefix: 'online', status: 'online' });
    const [arc] = t.simulator.addRunners(1, { namePrefix: 'arc-idle', status: 'offline' });
    const [ours] = t.simulator.addRunners(1, { namePrefix: 'ours-offline', status: 'offline' });
    const [wokeUp] = t.simulator.addRunners(1, { namePrefix: 'woke-up', status: 'offline' });
    const [failing] = t.simulator.addRunners(1, { namePrefix: 'failing', status: 'offline' });
    await insertRunners(t.dataSource, [{ name: ours.name, githubRunnerId: ours.id, status: 'offline' }]);

    // First sight: reported, and nothing is removed yet (another tool may be starting it).
    const first = await sync();
    expect(first.foreign).toMatchObject({ policy: 'remove', total: 5, removed: [], failed: [] });
    expect(t.simulator.requestCount('DELETE', /\/actions\/runners\/\d+$/)).toBe(0);

    await seenLongAgo();
    // Between the listing and the removal it came online; GitHub refuses to delete the other.
    t.simulator.injectFault({ method: 'GET', path: `/orgs/${t.simulator.org}/actions/runners/${wokeUp.id}`, status: 200, body: { ...wokeUp, status: 'online' } });
    t.simulator.injectFault({ method: 'DELETE', path: `/orgs/${t.simulator.org}/actions/runners/${failing.id}`, status: 500 });

    const second = await sync();

    expect(second.foreign.removed).toEqual([{ github_runner_id: idle.id, name: idle.name, status: 'offline', busy: false }]);
    expect(second.foreign.failed).toEqual([expect.objectContaining({ github_runner_id: failing.id, error: expect.stringMatching(/^GITHUB_UNAVAILABLE/) })]);
    const left = t.simulator.runners().map((runner) => runner.name);
    expect(left).not.toContain(idle.name);
    expect(left).toEqual(expect.arrayContaining([busy.name, online.name, arc.name, ours.name, wokeUp.name, failing.name]));
    const events = (await foreignEvents(t)).filter((event) => event.action === 'foreign_runner_removed');
    expect(events.map((event) => [event.runner_name, event.outcome])).toEqual(
      expect.arrayContaining([
        [idle.name, 'succeeded'],
        [failing.name, 'failed'],
      ]),
    );
    expect(events).toHaveLength(2);
    const [row] = await t.dataSource.query(`SELECT removed_at IS NOT NULL AS removed, gone_at IS NOT NULL AS gone FROM foreign_runners WHERE github_runner_id = $1`, [idle.id]);
    expect(row).toEqual({ removed: true, gone: true });
    t.simulator.clearFaults();
  });

  it('never touches a runner KNOWN_RUNNER_NAMES matches, however long it is offline', async () => {
    const arc = t.simulator.runners().find((runner) => runner.name.startsWith('arc-idle'));
    await seenLongAgo();
    await sync();
    expect(t.simulator.findRunnerByName(arc!.name)).toBeDefined();
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM foreign_runners WHERE name LIKE 'arc-%'`);
    expect(count).toBe(0);
  });
});

/** Two instances need one database they can both reach: the PostgreSQL server (CI has one). */
const onPostgres = process.env.TEST_DATABASE_URL ? describe : describe.skip;

onPostgres('Foreign runners: two instances on one PostgreSQL database (e2e)', () => {
  it('reports each foreign runner once when both sync at the same moment, and once more never', async () => {
    const [database, simulator] = await Promise.all([testDatabaseConfig(), GithubSimulator.start()]);
    const first = await startTestApp({ database: database.config, simulator });
    const second = await startTestApp({ database: database.config, simulator });
    try {
      const strangers = simulator.addRunners(150, { namePrefix: 'stranger', status: 'offline' });
      const syncBoth = () => Promise.all([first, second].map((t) => t.app.get(GithubSyncService).syncWithGithub(ops)));

      const reports = await syncBoth();

      expect(reports.map((report) => report.foreign.total)).toEqual([150, 150]);
      expect(reports[0].foreign.new.length + reports[1].foreign.new.length).toBe(150);
      const again = await syncBoth();
      expect(again.map((report) => report.foreign.new.length)).toEqual([0, 0]);
      const events: { id: string }[] = await first.dataSource.query(
        `SELECT details->>'github_runner_id' AS id FROM audit_events WHERE action = 'foreign_runner'`,
      );
      expect(new Set(events.map((event) => Number(event.id)))).toEqual(new Set(strangers.map((runner) => runner.id)));
      expect(events).toHaveLength(150);
    } finally {
      await first.close();
      await second.close();
      await simulator.stop();
      await database.drop();
    }
  });
});
