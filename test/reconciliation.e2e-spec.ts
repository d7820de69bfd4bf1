import { jest } from '@jest/globals';
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { GithubClient } from '../src/github/github.client.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { insertRunners, runnersByName } from './support/runners.js';

const LIST_RUNNERS = /^\/orgs\/[^/]+\/actions\/runners$/;
const RUNNER_BY_ID = /^\/orgs\/[^/]+\/actions\/runners\/\d+$/;
const ops = Actor.system('test');

describe('Reconciliation with GitHub: sync and cleanup (e2e)', () => {
  let t: TestApp;
  let syncService: GithubSyncService;
  let cleanupService: StaleCleanupService;

  beforeAll(async () => {
    t = await startTestApp({ runners: { pendingGraceMinutes: 60 } });
    syncService = t.app.get(GithubSyncService);
    cleanupService = t.app.get(StaleCleanupService);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    t.simulator.reset();
    await t.dataSource.query('DELETE FROM runners');
    // The trail is append-only: the prune function is the one way to empty it.
    await t.dataSource.query('SELECT prune_audit_events(now())');
  });

  const sync = () => syncService.syncWithGithub(ops);

  describe('sync', () => {
    it('reads every page of a 320-runner org, updates each known runner, and touches no other', async () => {
      // 300 runners of ours (100 online, 100 offline after running, 100 never started) and 20 not ours.
      const online = t.simulator.addRunners(100, { namePrefix: 'ours-online', status: 'online' });
      const offline = t.simulator.addRunners(100, { namePrefix: 'ours-offline', status: 'offline' });
      const fresh = t.simulator.addRunners(100, { namePrefix: 'ours-fresh', status: 'offline', os: 'unknown' });
      const foreign = t.simulator.addRunners(20, { namePrefix: 'foreign', status: 'online' });
      await insertRunners(t.dataSource, [
        ...online.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })),
        ...offline.map((runner) => ({ name: runner.name, githubRunnerId: runner.id, status: 'active' as const })),
        ...fresh.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })),
      ]);
      const before = t.simulator.requests().length;

      const report = await sync();

      expect(report).toMatchObject({ github_runners: 320, list_requests: 4, checked: 300, deleted: 0, skipped: 0 });
      const rows = await runnersByName(t.dataSource);
      expect(online.every((runner) => rows.get(runner.name)?.status === 'active')).toBe(true);
      expect(online.every((runner) => rows.get(runner.name)?.last_seen_at !== null)).toBe(true);
      expect(offline.every((runner) => rows.get(runner.name)?.status === 'offline')).toBe(true);
      // Never connected: still pending, not offline.
      expect(fresh.every((runner) => rows.get(runner.name)?.status === 'pending')).toBe(true);
      expect(foreign.some((runner) => rows.has(runner.name))).toBe(false);
      // 100 a page, every page, and nothing asked per runner.
      const made = t.simulator.requests().slice(before);
      expect(made.filter((r) => LIST_RUNNERS.test(r.path)).map((r) => [r.query.per_page, r.query.page]).sort()).toEqual([
        ['100', '1'],
        ['100', '2'],
        ['100', '3'],
        ['100', '4'],
      ]);
      expect(made.filter((r) => RUNNER_BY_ID.test(r.path))).toEqual([]);
      expect(report.updated).toBe(200);
    });

    it('changes nothing when the second page fails', async () => {
      const runners = t.simulator.addRunners(250, { namePrefix: 'page-fail', status: 'online' });
      await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
      // And one that GitHub no longer has: a complete list would mark it deleted.
      await insertRunners(t.dataSource, [{ name: 'gone-already', githubRunnerId: 999_999, status: 'active' }]);
      const before = await t.dataSource.query('SELECT * FROM runners ORDER BY id');
      t.simulator.injectFault({ method: 'GET', path: LIST_RUNNERS, query: { page: '2' }, status: 502 });

      await expect(sync()).rejects.toMatchObject({ code: 'GITHUB_UNAVAILABLE' });

      expect(await t.dataSource.query('SELECT * FROM runners ORDER BY id')).toEqual(before);
      const events: { action: string; outcome: string }[] = await t.dataSource.query('SELECT action, outcome FROM audit_events');
      expect(events).toEqual([{ action: 'sync', outcome: 'failed' }]);
    });

    it('does not bring back a runner deleted while the pages are read', async () => {
      const [runner] = t.simulator.addRunners(1, { namePrefix: 'deleted-meanwhile', status: 'online' });
      await insertRunners(t.dataSource, [{ name: runner.name, githubRunnerId: runner.id }]);
      // The caller deletes it once the sync has read its rows and GitHub has listed it online.
      const github = t.app.get(GithubClient);
      const listAll = github.listAllRunners.bind(github);
      const listing = jest.spyOn(github, 'listAllRunners').mockImplementationOnce(async (options) => {
        const listed = await listAll(options);
        await t.dataSource.query(`UPDATE runners SET status = 'deleted', deleted_at = now() WHERE name = $1`, [runner.name]);
        return listed;
      });
      try {
        const report = await sync();

        // The sync's "now active" must not win.
        expect(report.updated).toBe(0);
        expect((await runnersByName(t.dataSource)).get(runner.name)?.status).toBe('deleted');
      } finally {
        listing.mockRestore();
      }
    });

    it('changes nothing when runners come and go while the pages are read, and says so', async () => {
      const runners = t.simulator.addRunners(150, { namePrefix: 'churn', status: 'online' });
      await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id })));
      await insertRunners(t.dataSource, [{ name: 'gone-meanwhile', githubRunnerId: 888_888, status: 'active' }]);
      // Every second page answers as if ten runners had been removed since page 1.
      const snapshot = t.simulator.runners();
      t.simulator.injectFault({
        method: 'GET',
        path: LIST_RUNNERS,
        query: { page: '2' },
        status: 200,
        body: { total_count: 140, runners: snapshot.slice(110, 150) },
      });

      await expect(sync()).rejects.toThrow(/changed while it was being read/);
      const rows = await runnersByName(t.dataSource);
      expect(rows.get('gone-meanwhile')?.status).toBe('active');
      expect([...rows.values()].filter((row) => row.status === 'active')).toHaveLength(1);
    });

    it('does not take a runner the listing skipped for gone: it asks GitHub about it first', async () => {
      const runners = t.simulator.addRunners(150, { namePrefix: 'shifted', status: 'online' });
      await insertRunners(t.dataSource, runners.map((runner) => ({ name: runner.name, githubRunnerId: runner.id, status: 'active' as const })));
      // Between the two pages one runner of page 1 went and another came: the total is the same, and
      // page 2 starts one later, so runner 101 is in neither page.
      const snapshot = t.simulator.runners();
      const newcomer = { ...snapshot[0], id: 999_001, name: 'newcomer' };
      t.simulator.injectFault({
        method: 'GET',
        path: LIST_RUNNERS,
        query: { page: '2' },
        status: 200,
        body: { total_count: 150, runners: [...snapshot.slice(101, 150), newcomer] },
      });
      const skipped = runners[100];

      const report = await sync();

      expect(report).toMatchObject({ deleted: 0, lookups: 1, unconfirmed: 0 });
      expect((await runnersByName(t.dataSource)).get(skipped.name)?.status).toBe('active');
      expect(t.simulator.requestCount('GET', new RegExp(`/actions/runners/${skipped.id}$`))).toBe(1);
    });

    it('leaves a runner missing from the listing as it is when GitHub cannot be asked about it', async () => {
      await insertRunners(t.dataSource, [{ name: 'maybe-gone', githubRunnerId: 777_777, status: 'active' }]);
      t.simulator.injectFault({ method: 'GET', path: `/orgs/${t.simulator.org}/actions/runners/777777`, status: 502 });
      expect(await sync()).toMatchObject({ deleted: 0, lookups: 1, unconfirmed: 1 });
      expect((await runnersByName(t.dataSource)).get('maybe-gone')?.status).toBe('active');
    });

    it('marks an ephemeral runner whose job finished deleted, and frees its name', async () => {
      const token = await t.oidc.token({ sub: 'dana-sub', email: 'dana@example.com' });
      const provisioned = await request(t.server)
        .post('/api/v1/runners/jit')
        .auth(token, { type: 'bearer' })
        .send({ runner_name: 'one-job', labels: ['ephemeral'] });
      expect(provisioned.status).toBe(201);
      const onGithub = t.simulator.findRunnerByName('one-job');
      t.simulator.setRunnerStatus(onGithub!.id, { status: 'online', busy: true });
      expect(await sync()).toMatchObject({ updated: 1, deleted: 0 });
      expect((await runnersByName(t.dataSource)).get('one-job')).toMatchObject({ status: 'active', busy: true });

      t.simulator.completeJob(onGithub!.id);
      const report = await sync();

      expect(report).toMatchObject({ deleted: 1, changes: [expect.objectContaining({ runner_name: 'one-job', from: 'active', to: 'deleted', reason: 'gone from GitHub' })] });
      const shown = await request(t.server).get(`/api/v1/runners/${provisioned.body.runner_id}`).auth(token, { type: 'bearer' });
      expect(shown.body.status).toBe('deleted');
      const events: { outcome: string; runner_name: string; actor: string }[] = await t.dataSource.query(
        `SELECT outcome, runner_name, actor FROM audit_events WHERE action = 'sync' AND runner_id IS NOT NULL`,
      );
      expect(events).toEqual([{ outcome: 'succeeded', runner_name: 'one-job', actor: 'system:test' }]);
      const again = await request(t.server)
        .post('/api/v1/runners/jit')
        .auth(token, { type: 'bearer' })
        .send({ runner_name: 'one-job', labels: ['ephemeral'] });
      expect(again.status).toBe(201);
    });

    it('leaves a pending runner missing from GitHub alone inside the grace period, not after it', async () => {
      await insertRunners(t.dataSource, [
        { name: 'young-pending', kind: 'registration_token', createdHoursAgo: 0.5 },
        { name: 'old-pending', kind: 'registration_token', createdHoursAgo: 2 },
      ]);
      const report = await sync();
      expect(report).toMatchObject({ waiting: 1, deleted: 1 });
      const rows = await runnersByName(t.dataSource);
      expect(rows.get('young-pending')?.status).toBe('pending');
      expect(rows.get('old-pending')?.status).toBe('deleted');
    });

    it('closes the attempts that never finished as failed, with the closing event they lacked, and removes what GitHub made for them', async () => {
      // A JIT request that died (a crash, or a closing write lost in a database outage and then a
      // restart) after GitHub created its runner, a registration-token request that died before
      // its token was handed out, and a JIT request still under way.
      const [leftOnGithub] = t.simulator.addRunners(1, { namePrefix: 'died-jit', os: 'unknown', status: 'offline' });
      const [other] = t.simulator.addRunners(1, { namePrefix: 'someone-elses', status: 'online' });
      await insertRunners(t.dataSource, [
        { name: leftOnGithub.name, createdHoursAgo: 0.1 },
        { name: 'died-token', kind: 'registration_token', createdHoursAgo: 0.1 },
        { name: 'under-way' },
      ]);
      await t.dataSource.query(`UPDATE runners SET expires_at = NULL WHERE name = 'died-token'`);
      await t.dataSource.query(
        `INSERT INTO audit_events (actor, actor_issuer, actor_subject, action, outcome, runner_id, runner_name, details)
         SELECT owner_name, owner_issuer, owner_subject, CASE kind WHEN 'jit' THEN 'provision_jit' ELSE 'provision' END,
                'attempted', id, name, '{}'::jsonb
           FROM runners`,
      );

      const report = await sync();

      expect(report.abandoned).toBe(2);
      const rows = await runnersByName(t.dataSource);
      expect([rows.get(leftOnGithub.name)?.status, rows.get('died-token')?.status, rows.get('under-way')?.status]).toEqual([
        'failed',
        'failed',
        'pending',
      ]);
      expect(t.simulator.findRunnerByName(leftOnGithub.name)).toBeUndefined();
      expect(t.simulator.findRunnerByName(other.name)).toBeDefined();
      const events: { runner_name: string; outcome: string; actor: string; details: Record<string, unknown> }[] = await t.dataSource.query(
        `SELECT runner_name, outcome, actor, details FROM audit_events WHERE action LIKE 'provision%' ORDER BY runner_name, occurred_at`,
      );
      expect(events.map((event) => `${event.runner_name}:${event.outcome}`)).toEqual([
        `${leftOnGithub.name}:attempted`,
        `${leftOnGithub.name}:failed`,
        'died-token:attempted',
        'died-token:failed',
        'under-way:attempted',
      ]);
      expect(events[1]).toMatchObject({
        actor: 'system:test',
        details: { error_code: 'REQUEST_ABANDONED', orphan: 'removed', noticed_by: 'system:test' },
      });
      expect(events[3].details).toMatchObject({ error_code: 'REQUEST_ABANDONED' });

      // Closed once: the next sync finds nothing more to close.
      expect((await sync()).abandoned).toBe(0);
    });

    it('finds a registration-token runner by its name and records its GitHub id', async () => {
      const [registered] = t.simulator.addRunners(1, { namePrefix: 'config-sh', status: 'offline' });
      await insertRunners(t.dataSource, [{ name: registered.name, kind: 'registration_token' }]);
      await sync();
      expect((await runnersByName(t.dataSource)).get(registered.name)).toMatchObject({
        status: 'offline',
        github_runner_id: registered.id,
      });
    });
  });

  describe('cleanup', () => {
    async function staleSetup() {
      const [stalePending] = t.simulator.addRunners(1, { namePrefix: 'stale-pending', status: 'offline', os: 'unknown' });
      const [staleOffline] = t.simulator.addRunners(1, { namePrefix: 'stale-offline', status: 'offline' });
      const [staleBusy] = t.simulator.addRunners(1, { namePrefix: 'stale-busy', status: 'offline', busy: true });
      const [backOnline] = t.simulator.addRunners(1, { namePrefix: 'back-online', status: 'online' });
      const [recent] = t.simulator.addRunners(1, { namePrefix: 'recent', status: 'offline' });
      const [foreign] = t.simulator.addRunners(1, { namePrefix: 'not-ours', status: 'offline' });
      await insertRunners(t.dataSource, [
        { name: stalePending.name, githubRunnerId: stalePending.id, createdHoursAgo: 30 },
        { name: staleOffline.name, githubRunnerId: staleOffline.id, status: 'offline', createdHoursAgo: 80, lastSeenHoursAgo: 48 },
        { name: staleBusy.name, githubRunnerId: staleBusy.id, status: 'offline', createdHoursAgo: 30, lastSeenHoursAgo: 26 },
        { name: backOnline.name, githubRunnerId: backOnline.id, status: 'offline', createdHoursAgo: 30, lastSeenHoursAgo: 25 },
        { name: recent.name, githubRunnerId: recent.id, status: 'offline', createdHoursAgo: 30, lastSeenHoursAgo: 2 },
        { name: 'never-registered', kind: 'registration_token', createdHoursAgo: 40 },
      ]);
      return { stalePending, staleOffline, staleBusy, backOnline, recent, foreign };
    }

    it('--dry-run lists the stale runners and changes nothing, here or on GitHub', async () => {
      const runners = await staleSetup();
      const before = await t.dataSource.query('SELECT * FROM runners ORDER BY id');
      const githubBefore = t.simulator.runners();

      const report = await cleanupService.cleanupStaleRunners(ops, { hours: 24, dryRun: true });

      expect(report.dry_run).toBe(true);
      expect(report.deleted.map((item) => item.runner_name).sort()).toEqual(
        [runners.stalePending.name, runners.staleOffline.name, runners.staleBusy.name, runners.backOnline.name, 'never-registered'].sort(),
      );
      expect(await t.dataSource.query('SELECT * FROM runners ORDER BY id')).toEqual(before);
      expect(t.simulator.runners()).toEqual(githubBefore);
      expect(await t.dataSource.query('SELECT * FROM audit_events')).toEqual([]);
    });

    it('removes stale runners from GitHub first, then marks them deleted; skips busy ones and never touches others', async () => {
      const runners = await staleSetup();

      const report = await cleanupService.cleanupStaleRunners(ops, { hours: 24, dryRun: false });

      expect(report.deleted.map((item) => item.runner_name).sort()).toEqual(
        [runners.stalePending.name, runners.staleOffline.name, 'never-registered'].sort(),
      );
      expect(report.skipped_busy.map((item) => item.runner_name)).toEqual([runners.staleBusy.name]);
      expect(report.failed).toEqual([]);
      const onGithub = new Set(t.simulator.runners().map((runner) => runner.name));
      expect(onGithub.has(runners.stalePending.name)).toBe(false);
      expect(onGithub.has(runners.staleOffline.name)).toBe(false);
      expect(onGithub.has(runners.staleBusy.name)).toBe(true);
      expect(onGithub.has(runners.foreign.name)).toBe(true);
      expect(onGithub.has(runners.recent.name)).toBe(true);
      const rows = await runnersByName(t.dataSource);
      expect(rows.get(runners.stalePending.name)?.status).toBe('deleted');
      expect(rows.get(runners.staleOffline.name)?.status).toBe('deleted');
      expect(rows.get('never-registered')?.status).toBe('deleted');
      expect(rows.get(runners.staleBusy.name)?.status).toBe('offline');
      expect(rows.get(runners.recent.name)?.status).toBe('offline');
      // Online on GitHub after all: not stale, and now recorded as active.
      expect(rows.get(runners.backOnline.name)?.status).toBe('active');
      const events: { runner_name: string | null; outcome: string }[] = await t.dataSource.query(
        `SELECT runner_name, outcome FROM audit_events WHERE action = 'cleanup' ORDER BY runner_name NULLS LAST`,
      );
      expect(events.map((event) => event.runner_name)).toEqual(
        [...[runners.stalePending.name, runners.staleOffline.name, 'never-registered'].sort(), null],
      );
    });

    it('leaves a runner that a sync saw online after the cleanup listed it', async () => {
      const [first, second] = t.simulator.addRunners(2, { namePrefix: 'listed', status: 'offline' });
      const [, secondId] = await insertRunners(t.dataSource, [
        { name: first.name, githubRunnerId: first.id, status: 'offline', createdHoursAgo: 50, lastSeenHoursAgo: 49 },
        { name: second.name, githubRunnerId: second.id, status: 'offline', createdHoursAgo: 30, lastSeenHoursAgo: 29 },
      ]);
      // GitHub is slow on the first runner; meanwhile a sync records the second one online.
      t.simulator.injectFault({ method: 'GET', path: `/orgs/${t.simulator.org}/actions/runners/${first.id}`, delayMs: 1000 });
      const cleanup = cleanupService.cleanupStaleRunners(ops, { hours: 24, dryRun: false });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.dataSource.query(`UPDATE runners SET status = 'active', last_seen_at = now() WHERE id = $1`, [secondId]);

      const report = await cleanup;

      expect(report.deleted.map((item) => item.runner_name)).toEqual([first.name]);
      expect(t.simulator.findRunnerByName(second.name)).toBeDefined();
      expect((await runnersByName(t.dataSource)).get(second.name)?.status).toBe('active');
    });

    it('stops between runners when asked to (shutdown, or the scheduler lost its lease)', async () => {
      const runners = await staleSetup();
      const githubBefore = t.simulator.runners();

      const report = await cleanupService.cleanupStaleRunners(ops, { hours: 24, dryRun: false, signal: AbortSignal.abort() });

      // The stale pending JIT runner is past its expires_at too: listed as never started.
      expect(report).toMatchObject({ stopped_early: true, stale: 4, never_started: 1, deleted: [], failed: [] });
      expect(t.simulator.runners()).toEqual(githubBefore);
      expect((await runnersByName(t.dataSource)).get(runners.staleOffline.name)?.status).toBe('offline');
    });

    it('reports a runner GitHub failed on and goes on with the others', async () => {
      const runners = await staleSetup();
      t.simulator.injectFault({ method: 'DELETE', path: `/orgs/${t.simulator.org}/actions/runners/${runners.staleOffline.id}`, status: 500 });

      const report = await cleanupService.cleanupStaleRunners(ops, { hours: 24, dryRun: false });

      expect(report.failed).toEqual([expect.objectContaining({ runner_name: runners.staleOffline.name, error: expect.stringMatching(/^GITHUB_UNAVAILABLE/) })]);
      expect(report.deleted.map((item) => item.runner_name)).toContain(runners.stalePending.name);
      expect((await runnersByName(t.dataSource)).get(runners.staleOffline.name)?.status).toBe('offline');
    });
  });
});
