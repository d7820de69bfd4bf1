/**
 * JIT runners that never came online: the answer's expires_at is issued + JIT_START_TIMEOUT_MINUTES,
 * and the next cleanup after it removes the runner from GitHub and marks it deleted with the reason
 * never_started, instead of leaving it for STALE_RUNNER_HOURS.
 */
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { insertRunners, runnersByName, untilHandedOut } from './support/runners.js';

const TIMEOUT_MINUTES = 15;
const ops = Actor.system('test');

describe('JIT runners that never started (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ runners: { jitStartTimeoutMinutes: TIMEOUT_MINUTES } });
    token = await t.oidc.token({ sub: 'erin-sub', email: 'erin@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    t.simulator.reset();
    await t.dataSource.query('DELETE FROM runners');
    await t.dataSource.query('SELECT prune_audit_events(now())');
  });

  async function provision(name: string): Promise<{ runner_id: string; expires_at: string; githubId: number }> {
    const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name });
    expect(response.status).toBe(201);
    await untilHandedOut(t.dataSource, response.body.runner_id);
    return { ...response.body, githubId: t.simulator.findRunnerByName(name)!.id };
  }

  async function show(runnerId: string): Promise<Record<string, unknown>> {
    const response = await request(t.server).get(`/api/v1/runners/${runnerId}`).auth(token, { type: 'bearer' });
    expect(response.status).toBe(200);
    return response.body;
  }

  /** As if its expires_at had passed a minute ago. */
  const expire = (name: string) => t.dataSource.query(`UPDATE runners SET expires_at = now() - interval '1 minute' WHERE name = $1`, [name]);
  const cleanup = (dryRun = false) => t.app.get(StaleCleanupService).cleanupStaleRunners(ops, { hours: 24, dryRun });

  it('answers an expires_at of exactly issued + JIT_START_TIMEOUT_MINUTES, and the runner keeps it', async () => {
    const issued = await provision('start-me');
    const shown = await show(issued.runner_id);
    expect(shown.expires_at).toBe(issued.expires_at);
    expect(Date.parse(issued.expires_at) - Date.parse(shown.created_at as string)).toBe(TIMEOUT_MINUTES * 60_000);
  });

  it('leaves a pending JIT runner alone before its expires_at', async () => {
    await provision('still-in-time');
    const report = await cleanup();
    expect(report).toMatchObject({ never_started: 0, stale: 0, deleted: [] });
    expect(t.simulator.findRunnerByName('still-in-time')).toBeDefined();
    expect((await runnersByName(t.dataSource)).get('still-in-time')?.status).toBe('pending');
  });

  it('removes one not online by its expires_at from GitHub at the next cleanup, and marks it deleted as never_started', async () => {
    const late = await provision('never-came');
    await expire('never-came');

    const report = await cleanup();

    expect(report).toMatchObject({ never_started: 1, stale: 0, failed: [], skipped_busy: [] });
    expect(report.deleted).toEqual([
      expect.objectContaining({ runner_name: 'never-came', from: 'pending', to: 'deleted', reason: 'never started: not online by its expires_at, 1 min ago' }),
    ]);
    expect(t.simulator.findRunnerByName('never-came')).toBeUndefined();
    expect(t.simulator.requestCount('DELETE', new RegExp(`/actions/runners/${late.githubId}$`))).toBe(1);
    expect(await show(late.runner_id)).toMatchObject({ status: 'deleted', deletion_reason: 'never_started' });
    const events: { runner_name: string; details: Record<string, unknown> }[] = await t.dataSource.query(
      `SELECT runner_name, details FROM audit_events WHERE action = 'cleanup' AND runner_id IS NOT NULL`,
    );
    expect(events).toEqual([
      {
        runner_name: 'never-came',
        details: expect.objectContaining({ deletion_reason: 'never_started', github: 'deleted', github_runner_id: late.githubId, expires_at: expect.any(String) }),
      },
    ]);
  });

  it('leaves one that started after all, recording what GitHub shows: online is active, ran and went offline is offline', async () => {
    const online = await provision('started-late');
    const ran = await provision('ran-once');
    await expire('started-late');
    await expire('ran-once');
    t.simulator.setRunnerStatus(online.githubId, { status: 'online' });
    t.simulator.setRunnerStatus(ran.githubId, { status: 'online' });
    t.simulator.setRunnerStatus(ran.githubId, { status: 'offline' });

    const report = await cleanup();

    expect(report).toMatchObject({ never_started: 2, deleted: [], failed: [] });
    expect(t.simulator.runners().map((runner) => runner.name).sort()).toEqual(['ran-once', 'started-late']);
    expect(await show(online.runner_id)).toMatchObject({ status: 'active', deletion_reason: null });
    expect(await show(ran.runner_id)).toMatchObject({ status: 'offline', deletion_reason: null });
  });

  it('marks one GitHub no longer has deleted as never_started, and never takes a registration-token row for one', async () => {
    const gone = await provision('gone-already');
    await expire('gone-already');
    // GitHub removed it (an ephemeral runner that never connected goes after about a day).
    t.simulator.completeJob(gone.githubId);
    // A registration token expires after an hour: that says nothing about whether its runner started.
    await insertRunners(t.dataSource, [{ name: 'token-row', kind: 'registration_token', createdHoursAgo: 2 }]);
    await t.dataSource.query(`UPDATE runners SET expires_at = now() - interval '1 hour' WHERE name = 'token-row'`);

    const report = await cleanup();

    expect(report.deleted.map((change) => change.runner_name)).toEqual(['gone-already']);
    expect(await show(gone.runner_id)).toMatchObject({ status: 'deleted', deletion_reason: 'never_started' });
    const [event]: { details: { github: string } }[] = await t.dataSource.query(
      `SELECT details FROM audit_events WHERE action = 'cleanup' AND runner_name = 'gone-already'`,
    );
    expect(event.details.github).toBe('already-gone');
    expect((await runnersByName(t.dataSource)).get('token-row')?.status).toBe('pending');
  });

  it('--dry-run lists them with the others and changes nothing', async () => {
    await provision('dry-late');
    await expire('dry-late');
    await insertRunners(t.dataSource, [{ name: 'dry-stale', status: 'offline', githubRunnerId: 424_242, createdHoursAgo: 30, lastSeenHoursAgo: 30 }]);

    const report = await cleanup(true);

    expect(report).toMatchObject({ dry_run: true, never_started: 1, stale: 1 });
    expect(report.deleted.map((change) => [change.runner_name, change.reason])).toEqual([
      ['dry-late', 'never started: not online by its expires_at, 1 min ago'],
      ['dry-stale', 'offline for 30 h'],
    ]);
    expect(t.simulator.findRunnerByName('dry-late')).toBeDefined();
    expect((await runnersByName(t.dataSource)).get('dry-late')?.status).toBe('pending');
  });
});
