/**
 * A sync settles the rows of provisioning requests that never finished: the service died serving
 * them (a crash, kill -9), or their answer never went out (the caller hung up). A request that never
 * heard from GitHub is closed once it is surely over, with what GitHub made for it removed; a JIT
 * runner whose config is not known to have reached its caller is removed once it has gone unused
 * for the hour its config was valid. (The whole crash: provisioning-crash.slow-spec.ts.)
 */
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { startTestApp, type TestApp } from './support/app.js';

const JIT_PATH = '/api/v1/runners/jit';
const GENERATE_JIT = /\/actions\/runners\/generate-jitconfig$/;
const SYSTEM_LABELS = ['self-hosted', 'linux', 'x64'];
const ops = Actor.system('test');
/** Past any request's end (the default REQUEST_DEADLINE_MS of 15 s and the margin: 60 s). */
const REQUEST_OVER_MINUTES = 2;
/** Past a JIT config's hour. */
const CONFIG_HOUR_OVER_MINUTES = 61;

interface RunnerRow {
  id: string;
  status: string;
  github_runner_id: string | null;
  expires_at: Date | null;
  failure_code: string | null;
}

interface AuditRow {
  action: string;
  outcome: string;
  actor: string;
  details: Record<string, unknown>;
}

/** Polls until `check` holds (bounded: about 10 s), for what finishes after the answer. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('A sync settles the runners of requests that never finished (e2e)', () => {
  let t: TestApp;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    t.simulator.reset();
    await t.dataSource.query('DELETE FROM runners');
    await t.dataSource.query('SELECT prune_audit_events(now())');
  });

  const sync = () => t.app.get(GithubSyncService).syncWithGithub(ops);
  const rowOf = async (name: string): Promise<RunnerRow> => (await t.dataSource.query(`SELECT * FROM runners WHERE name = $1`, [name]))[0];
  const eventsOf = (name: string): Promise<AuditRow[]> =>
    t.dataSource.query(`SELECT action, outcome, actor, details FROM audit_events WHERE runner_name = $1 ORDER BY occurred_at`, [name]);
  /** As if the row had been written `minutes` earlier. */
  const age = (name: string, minutes: number) =>
    t.dataSource.query(`UPDATE runners SET created_at = created_at - make_interval(mins => $2) WHERE name = $1`, [name, minutes]);

  /** A pending row as a request writes it before it asks GitHub (and its 'attempted' event is not needed here). */
  async function insertWaitingRow(name: string, kind: 'jit' | 'registration_token', minutesAgo: number): Promise<void> {
    await t.dataSource.query(
      `INSERT INTO runners (name, kind, status, ephemeral, labels, runner_group_id, owner_issuer, owner_subject, owner_name, created_at)
       VALUES ($1, $2, 'pending', true, $3, 1, $4, 'carol-sub', 'carol', now() - make_interval(mins => $5))`,
      [name, kind, [...SYSTEM_LABELS, 'x'], t.oidc.issuer, minutesAgo],
    );
  }

  /** A runner as generate-jitconfig creates it (never connected), named `prefix-<id>`, with these labels. */
  function madeByGithub(prefix: string, labels = [...SYSTEM_LABELS, 'x']): { id: number; name: string } {
    return t.simulator.addRunners(1, { namePrefix: prefix, os: 'unknown', status: 'offline', ephemeral: true, labels })[0];
  }

  /** Sends a JIT request and hangs up before GitHub's slow answer arrives; resolves once the service has completed the row anyway. */
  async function provisionAndHangUp(name: string): Promise<void> {
    t.simulator.injectFault({ method: 'POST', path: GENERATE_JIT, delayMs: 500, afterHandling: true, times: 1 });
    await expect(request(t.server).post(JIT_PATH).auth(alice, { type: 'bearer' }).timeout(200).send({ runner_name: name, labels: ['x'] })).rejects.toThrow(
      /Timeout/,
    );
    const completed = await eventually(async () => (await eventsOf(name)).some((event) => event.outcome === 'succeeded'));
    expect(completed).toBe(true);
  }

  describe('a request that never heard from GitHub', () => {
    it('is closed as failed once it is surely over, and the runner GitHub made for it is removed', async () => {
      const made = madeByGithub('died-waiting');
      await insertWaitingRow(made.name, 'jit', REQUEST_OVER_MINUTES);

      const report = await sync();

      expect(report).toMatchObject({ abandoned: 1, withdrawn: 0, waiting: 0 });
      expect(report.changes).toEqual([expect.objectContaining({ runner_name: made.name, from: 'pending', to: 'failed' })]);
      expect(t.simulator.runners()).toEqual([]);
      expect(await rowOf(made.name)).toMatchObject({ status: 'failed', failure_code: 'REQUEST_ABANDONED' });
      // The attempt's one closing event, which it never got from its own request.
      expect(await eventsOf(made.name)).toEqual([
        {
          action: 'provision_jit',
          outcome: 'failed',
          actor: 'system:test',
          details: { error_code: 'REQUEST_ABANDONED', orphan: 'removed', noticed_by: 'system:test' },
        },
      ]);
    });

    it('is left alone while it may still be under way, here and on GitHub', async () => {
      const made = madeByGithub('maybe-under-way');
      await insertWaitingRow(made.name, 'jit', 0);

      expect(await sync()).toMatchObject({ abandoned: 0, waiting: 1 });
      expect(t.simulator.runners()).toHaveLength(1);
      expect(await rowOf(made.name)).toMatchObject({ status: 'pending' });
      expect(await eventsOf(made.name)).toEqual([]);
    });

    it('leaves a runner of its name that is not the one it asked for on GitHub, and still closes it', async () => {
      const [theirs] = t.simulator.addRunners(1, { namePrefix: 'lookalike', status: 'online', labels: ['self-hosted', 'other'] });
      await insertWaitingRow(theirs.name, 'jit', REQUEST_OVER_MINUTES);

      expect(await sync()).toMatchObject({ abandoned: 1 });
      expect(t.simulator.runners().map((runner) => runner.id)).toEqual([theirs.id]);
      expect((await eventsOf(theirs.name))[0].details).toMatchObject({ error_code: 'REQUEST_ABANDONED', orphan: 'not-ours' });
    });

    it('of a registration token is closed as failed; a token registers nothing, so GitHub is not asked', async () => {
      await insertWaitingRow('token-never-got', 'registration_token', REQUEST_OVER_MINUTES);
      const before = t.simulator.requests().length;

      expect(await sync()).toMatchObject({ abandoned: 1 });
      // Only the listing.
      expect(t.simulator.requests().length - before).toBe(1);
      expect(await rowOf('token-never-got')).toMatchObject({ status: 'failed', failure_code: 'REQUEST_ABANDONED' });
      expect((await eventsOf('token-never-got')).map((event) => [event.action, event.outcome])).toEqual([['provision', 'failed']]);
    });
  });

  describe('a JIT runner whose config is not known to have reached its caller', () => {
    it('is kept while its caller may still start it, then removed once the config\'s hour has passed unused', async () => {
      await provisionAndHangUp('hung-up');
      const row = await rowOf('hung-up');
      expect(row).toMatchObject({ status: 'pending', expires_at: null });
      expect(row.github_runner_id).not.toBeNull();

      await age('hung-up', REQUEST_OVER_MINUTES);
      expect(await sync()).toMatchObject({ withdrawn: 0, abandoned: 0 });
      expect(t.simulator.findRunnerByName('hung-up')).toBeDefined();

      await age('hung-up', CONFIG_HOUR_OVER_MINUTES);
      const report = await sync();

      expect(report).toMatchObject({ withdrawn: 1 });
      expect(report.changes).toEqual([expect.objectContaining({ runner_name: 'hung-up', from: 'pending', to: 'deleted' })]);
      expect(t.simulator.findRunnerByName('hung-up')).toBeUndefined();
      expect(await rowOf('hung-up')).toMatchObject({ status: 'deleted' });
      const events = await eventsOf('hung-up');
      expect(events.map((event) => [event.action, event.outcome])).toEqual([
        ['provision_jit', 'attempted'],
        ['provision_jit', 'succeeded'],
        ['sync', 'succeeded'],
      ]);
      expect(events[2].details).toMatchObject({ from: 'pending', to: 'deleted', github: 'deleted', reason: expect.stringMatching(/not known to have reached the caller/) });
    });

    it('is kept once it has connected: whoever started it had the config', async () => {
      await provisionAndHangUp('started-anyway');
      const onGithub = t.simulator.findRunnerByName('started-anyway');
      t.simulator.setRunnerStatus(onGithub!.id, { status: 'online' });
      await age('started-anyway', CONFIG_HOUR_OVER_MINUTES);

      expect(await sync()).toMatchObject({ withdrawn: 0, updated: 1 });
      expect(await rowOf('started-anyway')).toMatchObject({ status: 'active' });
      expect(t.simulator.findRunnerByName('started-anyway')).toBeDefined();
    });
  });

  it('records when an answer went out (expires_at), and a sync keeps that runner for the stale cleanup', async () => {
    const answer = await request(t.server).post(JIT_PATH).auth(alice, { type: 'bearer' }).send({ runner_name: 'handed-out', labels: ['x'] }).expect(201);
    expect(await eventually(async () => (await rowOf('handed-out')).expires_at !== null)).toBe(true);
    expect((await rowOf('handed-out')).expires_at?.toISOString()).toBe(answer.body.expires_at);

    await age('handed-out', CONFIG_HOUR_OVER_MINUTES);
    expect(await sync()).toMatchObject({ withdrawn: 0, abandoned: 0 });
    expect(await rowOf('handed-out')).toMatchObject({ status: 'pending' });
    expect(t.simulator.findRunnerByName('handed-out')).toBeDefined();
  });
});
