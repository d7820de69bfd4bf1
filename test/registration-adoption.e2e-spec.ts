import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { startTestApp, type TestApp } from './support/app.js';

const PROVISION_PATH = '/api/v1/runners/provision';
const JIT_PATH = '/api/v1/runners/jit';
const ops = Actor.system('test');

interface RunnerRow {
  status: string;
  github_runner_id: string | null;
  github_runner_id_floor: string | null;
}

/**
 * A registration token registers any runner for an hour and GitHub does not say which token
 * registered a runner, so a pending registration-token row must not adopt just any runner that
 * holds its name: Mallory's row must never take Carol's runner, whatever path looks at it.
 */
describe('Registration-token runners are adopted only when they can be their own (e2e)', () => {
  let t: TestApp;
  let mallory: string;
  let carol: string;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp();
    mallory = await t.oidc.token({ sub: 'mallory-sub', email: 'mallory@example.com' });
    carol = await t.oidc.token({ sub: 'carol-sub', email: 'carol@example.com' });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    t.simulator.addRunnerGroup('team-c');
  });

  afterAll(async () => {
    await t?.close();
  });

  const provision = (token: string, body: object) =>
    request(t.server).post(PROVISION_PATH).auth(token, { type: 'bearer' }).send(body).expect(201);
  const refresh = (token: string, id: string) =>
    request(t.server).post(`/api/v1/runners/${id}/refresh`).auth(token, { type: 'bearer' }).expect(200);
  const remove = (token: string, id: string) =>
    request(t.server).delete(`/api/v1/runners/${id}`).auth(token, { type: 'bearer' }).expect(200);
  const sync = () => t.app.get(GithubSyncService).syncWithGithub(ops);
  const cleanup = () => t.app.get(StaleCleanupService).cleanupStaleRunners(ops, { hours: 24, dryRun: false });
  const row = async (id: string): Promise<RunnerRow> =>
    ((await t.dataSource.query('SELECT * FROM runners WHERE id = $1', [id])) as RunnerRow[])[0];
  const ageRow = (id: string, hours: number) =>
    t.dataSource.query(`UPDATE runners SET created_at = now() - make_interval(hours => $2) WHERE id = $1`, [id, hours]);
  const onSimulator = (id: number) => t.simulator.runners().some((runner) => runner.id === id);

  /**
   * The reproduction: Mallory asks for the name and never uses her token; Carol registers her own
   * runner under that name with a token of her own (from her own provision request), in her team's
   * group with her labels.
   */
  async function carolTakesMallorysName(name: string, carols: { labels: string[]; runnerGroup: string }) {
    const mallorys = await provision(mallory, { runner_name: name, labels: ['build'] });
    const carolsOwn = await provision(carol, { runner_name: `${name}-carol`, labels: carols.labels });
    const carolsRunner = t.simulator.registerRunner({ token: carolsOwn.body.registration_token, name, ...carols });
    return { rowId: mallorys.body.runner_id as string, carolsRunner };
  }

  describe("Carol's runner under Mallory's pending name", () => {
    it('is not adopted by refresh, even past the grace period, and the row stays pending', async () => {
      const { rowId, carolsRunner } = await carolTakesMallorysName('team-c-build-01', { labels: ['team-c'], runnerGroup: 'team-c' });
      await ageRow(rowId, 2);

      const refreshed = await refresh(mallory, rowId);

      expect(refreshed.body).toMatchObject({ status: 'pending', github_runner_id: null });
      expect(await row(rowId)).toMatchObject({ status: 'pending', github_runner_id: null });
      const [event] = (await t.dataSource.query(
        `SELECT details FROM audit_events WHERE action = 'refresh' AND runner_id = $1`,
        [rowId],
      )) as { details: Record<string, unknown> }[];
      expect(event.details).toMatchObject({ on_github: null, not_ours: { github_runner_id: carolsRunner.id } });
      expect(t.logs.some((line) => line.includes('team-c-build-01') && line.includes('is not its own'))).toBe(true);
      expect(onSimulator(carolsRunner.id)).toBe(true);
    });

    it("is left on GitHub when Mallory deletes her runner; only her row is marked deleted", async () => {
      const { rowId, carolsRunner } = await carolTakesMallorysName('team-c-build-02', { labels: ['team-c'], runnerGroup: 'team-c' });

      const deleted = await remove(mallory, rowId);

      expect(deleted.body).toMatchObject({ status: 'deleted', github_runner_id: null });
      expect(onSimulator(carolsRunner.id)).toBe(true);
      const [event] = (await t.dataSource.query(
        `SELECT details FROM audit_events WHERE action = 'delete' AND runner_id = $1`,
        [rowId],
      )) as { details: Record<string, unknown> }[];
      expect(event.details).toMatchObject({ github: 'never-registered', github_runner_id: null });
      expect(t.logs.some((line) => line.includes('team-c-build-02') && line.includes('left on GitHub'))).toBe(true);
    });

    it('is not adopted when it is in the right group but lacks a label the command registers', async () => {
      const { rowId, carolsRunner } = await carolTakesMallorysName('team-c-build-03', { labels: ['team-c'], runnerGroup: 'Default' });

      await refresh(mallory, rowId);
      await remove(mallory, rowId);

      expect(onSimulator(carolsRunner.id)).toBe(true);
    });

    it('is reported by sync and left alone, and cleanup later expires the row without removing it', async () => {
      const { rowId, carolsRunner } = await carolTakesMallorysName('team-c-build-04', { labels: ['team-c'], runnerGroup: 'team-c' });
      await ageRow(rowId, 2);

      const report = await sync();

      expect(report.not_ours.filter((item) => item.runner_id === rowId)).toEqual([
        expect.objectContaining({ runner_name: 'team-c-build-04', github_runner_id: carolsRunner.id, reason: 'in runner group 2, not 1' }),
      ]);
      expect(report.changes.some((change) => change.runner_id === rowId)).toBe(false);
      expect(await row(rowId)).toMatchObject({ status: 'pending', github_runner_id: null });

      await ageRow(rowId, 25);
      const cleaned = await cleanup();

      expect(cleaned.deleted.map((item) => item.runner_id)).toContain(rowId);
      expect(await row(rowId)).toMatchObject({ status: 'deleted', github_runner_id: null });
      expect(onSimulator(carolsRunner.id)).toBe(true);
      const [event] = (await t.dataSource.query(
        `SELECT details FROM audit_events WHERE action = 'cleanup' AND runner_id = $1`,
        [rowId],
      )) as { details: Record<string, unknown> }[];
      expect(event.details).toMatchObject({ github: 'never-registered', not_ours: { github_runner_id: carolsRunner.id } });
    });

    it('is not adopted when it is older than the token (its id at or below the highest id known then)', async () => {
      const { rowId, carolsRunner } = await carolTakesMallorysName('team-c-build-05', { labels: ['build'], runnerGroup: 'Default' });
      // As if GitHub had already shown Carol's runner when Mallory's token was issued.
      await t.dataSource.query('UPDATE runners SET github_runner_id_floor = $2 WHERE id = $1', [rowId, carolsRunner.id]);

      await refresh(mallory, rowId);
      expect((await sync()).not_ours.map((item) => item.runner_id)).toContain(rowId);
      await remove(mallory, rowId);

      expect(onSimulator(carolsRunner.id)).toBe(true);
    });
  });

  describe('the runner registered with the token', () => {
    it('records the highest GitHub runner id known when the token is issued', async () => {
      await request(t.server)
        .post(JIT_PATH)
        .auth(alice, { type: 'bearer' })
        .send({ runner_name: 'floor-jit-01', labels: ['build'] })
        .expect(201);
      const jitRunner = t.simulator.findRunnerByName('floor-jit-01');
      const { highest } = ((await t.dataSource.query('SELECT max(github_runner_id) AS highest FROM runners')) as { highest: string }[])[0];

      const provisioned = await provision(alice, { runner_name: 'floor-worker-01', labels: ['build'] });

      expect(Number(highest)).toBeGreaterThanOrEqual(jitRunner!.id);
      expect(Number((await row(provisioned.body.runner_id)).github_runner_id_floor)).toBe(Number(highest));
    });

    it('is adopted by refresh: same name, after the token, in its group, with its labels in any case', async () => {
      const provisioned = await provision(alice, { runner_name: 'legit-worker-01', labels: ['build', 'gpu'] });
      const registered = t.simulator.registerRunner({
        token: provisioned.body.registration_token,
        name: 'legit-worker-01',
        labels: ['GPU', 'Build', 'extra'],
        runnerGroup: 'Default',
      });

      const refreshed = await refresh(alice, provisioned.body.runner_id);

      expect(refreshed.body).toMatchObject({ github_runner_id: registered.id });
      expect(Number((await row(provisioned.body.runner_id)).github_runner_id)).toBe(registered.id);
    });

    it('is adopted by sync', async () => {
      const provisioned = await provision(alice, { runner_name: 'legit-worker-02', labels: ['build'] });
      const registered = t.simulator.registerRunner({
        token: provisioned.body.registration_token,
        name: 'legit-worker-02',
        labels: provisioned.body.labels,
      });

      const report = await sync();

      expect(report.not_ours.map((item) => item.runner_name)).not.toContain('legit-worker-02');
      expect(Number((await row(provisioned.body.runner_id)).github_runner_id)).toBe(registered.id);
    });
  });
});
