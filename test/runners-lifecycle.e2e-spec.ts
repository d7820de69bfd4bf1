import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { untilHandedOut } from './support/runners.js';

const RUNNERS = '/api/v1/runners';

interface RunnerBody {
  runner_id: string;
  runner_name: string;
  status: string;
  busy: boolean;
  github_runner_id: number | null;
  last_seen_at: string | null;
}

describe('Runner lifecycle: list, refresh, delete (e2e)', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    t = await startTestApp({ runners: { pendingGraceMinutes: 60 } });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  async function provision(token: string, name: string): Promise<RunnerBody> {
    const response = await request(t.server).post(`${RUNNERS}/jit`).auth(token, { type: 'bearer' }).send({ runner_name: name, labels: ['lifecycle'] });
    expect(response.status).toBe(201);
    await untilHandedOut(t.dataSource, response.body.runner_id);
    const runner = await request(t.server).get(`${RUNNERS}/${response.body.runner_id}`).auth(token, { type: 'bearer' });
    return runner.body as RunnerBody;
  }

  const refresh = (token: string, idOrName: string) =>
    request(t.server).post(`${RUNNERS}/${idOrName}/refresh`).auth(token, { type: 'bearer' });
  const remove = (token: string, idOrName: string) =>
    request(t.server).delete(`${RUNNERS}/${idOrName}`).auth(token, { type: 'bearer' });
  const auditOf = (runnerId: string, action: string): Promise<{ outcome: string; details: Record<string, unknown> }[]> =>
    t.dataSource.query(`SELECT outcome, details FROM audit_events WHERE runner_id = $1 AND action = $2 ORDER BY occurred_at`, [
      runnerId,
      action,
    ]);
  /** Makes a runner look older than it is, as if created `hours` ago. */
  const age = (runnerId: string, hours: number) =>
    t.dataSource.query(`UPDATE runners SET created_at = now() - make_interval(hours => $2) WHERE id = $1`, [runnerId, hours]);

  describe('GET /runners', () => {
    let carol: string;
    const names: string[] = [];

    beforeAll(async () => {
      carol = await t.oidc.token({ sub: 'carol-sub', email: 'carol@example.com' });
      for (let i = 0; i < 5; i++) names.push((await provision(carol, `carol-list-${i}`)).runner_name);
    });

    it('pages through the caller’s runners newest first with next_cursor, each runner exactly once', async () => {
      const seen: string[] = [];
      let path = `${RUNNERS}?limit=2`;
      const pages: number[] = [];
      for (;;) {
        const page = await request(t.server).get(path).auth(carol, { type: 'bearer' });
        expect(page.status).toBe(200);
        pages.push(page.body.runners.length);
        seen.push(...page.body.runners.map((runner: RunnerBody) => runner.runner_name));
        if (page.body.next_cursor === null) {
          expect(page.body.next).toBeNull();
          break;
        }
        expect(page.body.next).toBe(`/api/v1/runners?limit=2&cursor=${page.body.next_cursor}`);
        path = page.body.next;
      }
      expect(pages).toEqual([2, 2, 1]);
      expect(seen).toEqual([...names].reverse());
    });

    it('filters by status and shows deleted runners only when asked for', async () => {
      const deleted = await remove(carol, names[0]);
      expect(deleted.status).toBe(200);

      const all = await request(t.server).get(RUNNERS).auth(carol, { type: 'bearer' });
      expect(all.body.runners.map((runner: RunnerBody) => runner.runner_name)).not.toContain(names[0]);
      const pending = await request(t.server).get(`${RUNNERS}?status=pending`).auth(carol, { type: 'bearer' });
      expect(pending.body.runners).toHaveLength(4);
      const gone = await request(t.server).get(`${RUNNERS}?status=deleted`).auth(carol, { type: 'bearer' });
      expect(gone.body.runners.map((runner: RunnerBody) => runner.runner_name)).toEqual([names[0]]);
    });

    it('answers 400 naming the parameter for a bad status, limit or cursor', async () => {
      for (const [query, field] of [
        ['status=running', 'status'],
        ['limit=0', 'limit'],
        ['limit=abc', 'limit'],
        ['cursor=not*a*cursor', 'cursor'],
        ['cursor=bm90LWEtdXVpZA', 'cursor'],
      ]) {
        const response = await request(t.server).get(`${RUNNERS}?${query}`).auth(carol, { type: 'bearer' });
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('VALIDATION_FAILED');
        expect(response.body.error.message).toMatch(new RegExp(`^${field} `));
      }
    });
    it("refuses another owner's runner as a cursor exactly like an unknown one, without revealing it exists", async () => {
      const dave = await t.oidc.token({ sub: 'dave-sub', email: 'dave@example.com' });
      await provision(dave, 'dave-list-0');
      const carols = await request(t.server).get(RUNNERS).auth(carol, { type: 'bearer' });
      const cursorOf = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
      const list = (cursor: string) => request(t.server).get(`${RUNNERS}?cursor=${cursor}`).auth(dave, { type: 'bearer' });

      const foreign = await list(cursorOf(carols.body.runners[0].runner_id));
      const unknown = await list(cursorOf('00000000-0000-4000-8000-000000000000'));
      expect(foreign.status).toBe(400);
      expect(unknown.status).toBe(400);
      expect(foreign.body.error).toEqual(unknown.body.error);
      expect(foreign.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^cursor /) });
      expect(JSON.stringify(foreign.body)).not.toContain('carol');
    });

    it('shows each runner in the list exactly as GET /runners/{id} shows it, whatever its fields hold', async () => {
      const erin = await t.oidc.token({ sub: 'erin-sub', email: 'erin@example.com' });
      const odd = 'quote " backslash \\ slash / tab \t newline \n bell \u0007 del \u007f é 中 😀 \u2028';
      const rows: { id: string }[] = await t.dataSource.query(
        `INSERT INTO runners (name, kind, status, busy, ephemeral, labels, runner_group_id, github_runner_id, owner_issuer,
                              owner_subject, owner_name, failure_reason, deletion_reason, expires_at, last_seen_at,
                              job_repository, job_run_id, job_run_attempt, job_id, job_conclusion, created_at, updated_at)
         VALUES ('erin-plain', 'jit', 'pending', false, true, '{}', 1, NULL, $1, 'erin-sub', $2, NULL, NULL, NULL, NULL,
                 NULL, NULL, NULL, NULL, NULL, '2026-01-02 03:04:05.678999+00', '2026-01-02 03:04:05.000001+00'),
                ('erin-full', 'registration_token', 'active', true, false, ARRAY['self-hosted', 'a,b', $3, '{x}'], 7,
                 9007199254740991, $1, 'erin-sub', $2, $3, NULL, '2999-12-31 23:59:59.999999+00', '1999-12-31 23:59:59.9995+00',
                 'octo-org/octo-repo', 123456789012, 3, 987654321098, NULL, '2026-01-02 03:04:06+00', '2026-01-02 03:04:06.5+00'),
                ('erin-gone', 'jit', 'deleted', false, true, ARRAY['linux'], 1, 42, $1, 'erin-sub', $2, NULL, 'never_started',
                 now(), now(), 'octo-org/done', 5, 1, 6, 'success', '2026-01-02 03:04:07.1+00', now()),
                ('erin-half-job', 'jit', 'offline', false, true, ARRAY['x64'], 1, 43, $1, 'erin-sub', $2, NULL, NULL,
                 NULL, NULL, 'octo-org/half', NULL, NULL, 8, 'failure', '2026-01-02 03:04:08.25+00', now())
         RETURNING id`,
        [t.oidc.issuer, odd, odd],
      );
      expect(rows).toHaveLength(4);

      const listed = [
        ...(await request(t.server).get(RUNNERS).auth(erin, { type: 'bearer' })).body.runners,
        ...(await request(t.server).get(`${RUNNERS}?status=deleted`).auth(erin, { type: 'bearer' })).body.runners,
      ] as RunnerBody[];
      expect(listed.map((runner) => runner.runner_name)).toEqual(['erin-half-job', 'erin-full', 'erin-plain', 'erin-gone']);
      for (const runner of listed) {
        const single = await request(t.server).get(`${RUNNERS}/${runner.runner_id}`).auth(erin, { type: 'bearer' });
        expect(single.status).toBe(200);
        expect(runner).toStrictEqual(single.body);
        expect(Object.keys(runner)).toEqual(Object.keys(single.body));
      }
      const full = listed.find((runner) => runner.runner_name === 'erin-full') as unknown as Record<string, unknown>;
      expect(full).toMatchObject({
        labels: ['self-hosted', 'a,b', odd, '{x}'],
        failure_reason: odd,
        github_runner_id: 9007199254740991,
        expires_at: '2999-12-31T23:59:59.999Z',
        last_seen_at: '1999-12-31T23:59:59.999Z',
        job: { repository: 'octo-org/octo-repo', run_id: 123456789012, run_attempt: 3, job_id: 987654321098, conclusion: null },
      });
      expect(listed.find((runner) => runner.runner_name === 'erin-half-job')).toMatchObject({ job: null });
    });

    it("still pages with a cursor of the caller's own runner", async () => {
      const first = await request(t.server).get(`${RUNNERS}?limit=1`).auth(carol, { type: 'bearer' });
      const second = await request(t.server).get(`${RUNNERS}?limit=1&cursor=${first.body.next_cursor}`).auth(carol, { type: 'bearer' });
      expect(second.status).toBe(200);
      expect(second.body.runners).toHaveLength(1);
      expect(second.body.runners[0].runner_id).not.toBe(first.body.runners[0].runner_id);
    });
  });

  describe('POST /runners/{id}/refresh', () => {
    it('marks the runner active once the simulator brings it online, then offline', async () => {
      const runner = await provision(alice, 'refresh-online');
      expect(runner.status).toBe('pending');
      // Still offline and never connected on GitHub: it stays pending.
      expect((await refresh(alice, runner.runner_id)).body.status).toBe('pending');

      t.simulator.setRunnerStatus(runner.github_runner_id as number, { status: 'online', busy: true });
      const online = await refresh(alice, runner.runner_id);
      expect(online.status).toBe(200);
      expect(online.body).toMatchObject({ status: 'active', busy: true });
      expect(online.body.last_seen_at).not.toBeNull();

      t.simulator.setRunnerStatus(runner.github_runner_id as number, { status: 'offline', busy: false });
      const offline = await refresh(alice, runner.runner_name);
      expect(offline.body).toMatchObject({ status: 'offline', busy: false });
      const stored = await request(t.server).get(`${RUNNERS}/${runner.runner_id}`).auth(alice, { type: 'bearer' });
      expect(stored.body.status).toBe('offline');

      const events = await auditOf(runner.runner_id, 'refresh');
      expect(events.map((event) => [event.details.from, event.details.to])).toEqual([
        ['pending', 'pending'],
        ['pending', 'active'],
        ['active', 'offline'],
      ]);
    });

    it('marks a runner GitHub no longer has deleted (an ephemeral runner whose job finished)', async () => {
      const runner = await provision(alice, 'refresh-finished');
      t.simulator.setRunnerStatus(runner.github_runner_id as number, { status: 'online', busy: true });
      expect((await refresh(alice, runner.runner_id)).body.status).toBe('active');
      t.simulator.completeJob(runner.github_runner_id as number);

      const refreshed = await refresh(alice, runner.runner_id);
      expect(refreshed.body.status).toBe('deleted');
      // The name is free again.
      expect((await provision(alice, 'refresh-finished')).status).toBe('pending');
    });

    it('leaves a pending runner missing from GitHub alone inside the grace period, not after it', async () => {
      const runner = await provision(alice, 'refresh-grace');
      // Gone from GitHub (a JIT runner is ephemeral: GitHub removes it after its job) while it is young.
      t.simulator.completeJob(runner.github_runner_id as number);
      expect(t.simulator.findRunnerByName('refresh-grace')).toBeUndefined();

      expect((await refresh(alice, runner.runner_id)).body.status).toBe('pending');
      await age(runner.runner_id, 2);
      expect((await refresh(alice, runner.runner_id)).body.status).toBe('deleted');
    });

    it('answers 404 for another owner’s runner and 502 when GitHub fails, changing nothing', async () => {
      const runner = await provision(alice, 'refresh-errors');
      expect((await refresh(bob, runner.runner_id)).status).toBe(404);
      t.simulator.injectFault({ method: 'GET', path: `/orgs/${t.simulator.org}/actions/runners/${runner.github_runner_id}`, status: 500 });
      const failed = await refresh(alice, runner.runner_id);
      expect(failed.status).toBe(502);
      expect(failed.body.error.code).toBe('GITHUB_UNAVAILABLE');
      expect((await auditOf(runner.runner_id, 'refresh')).map((event) => event.outcome)).toEqual(['failed']);
      const stored = await request(t.server).get(`${RUNNERS}/${runner.runner_id}`).auth(alice, { type: 'bearer' });
      expect(stored.body).toEqual(runner);
    });
  });

  describe('DELETE /runners/{id}', () => {
    it('removes the runner from GitHub, marks it deleted and audits it in the same step', async () => {
      const runner = await provision(alice, 'delete-me');
      const deleted = await remove(alice, runner.runner_id);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ runner_id: runner.runner_id, status: 'deleted' });
      expect(t.simulator.findRunnerByName('delete-me')).toBeUndefined();
      const events = await auditOf(runner.runner_id, 'delete');
      expect(events).toEqual([{ outcome: 'succeeded', details: expect.objectContaining({ github: 'deleted', from: 'pending' }) }]);
      // Again: it is already deleted, and says so.
      const again = await remove(alice, runner.runner_id);
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('deleted');
    });

    it('counts a runner already gone from GitHub as removed', async () => {
      const runner = await provision(alice, 'delete-gone');
      t.simulator.setRunnerStatus(runner.github_runner_id as number, { status: 'online' });
      t.simulator.completeJob(runner.github_runner_id as number);
      const deleted = await remove(alice, runner.runner_name);
      expect(deleted.status).toBe(200);
      expect(deleted.body.status).toBe('deleted');
      expect((await auditOf(runner.runner_id, 'delete'))[0].details.github).toBe('already-gone');
    });

    it('answers 409 RUNNER_BUSY for a runner running a job, and changes nothing', async () => {
      const runner = await provision(alice, 'delete-busy');
      t.simulator.setRunnerStatus(runner.github_runner_id as number, { status: 'online', busy: true });
      const refused = await remove(alice, runner.runner_id);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('RUNNER_BUSY');
      expect(t.simulator.findRunnerByName('delete-busy')).toBeDefined();
      const stored = await request(t.server).get(`${RUNNERS}/${runner.runner_id}`).auth(alice, { type: 'bearer' });
      expect(stored.body.status).toBe('pending');
      expect((await auditOf(runner.runner_id, 'delete')).map((event) => event.outcome)).toEqual(['denied']);
    });

    it('ends deleted, with its event, when a refresh changed the runner while GitHub was removing it', async () => {
      const runner = await provision(alice, 'delete-racing');
      const id = runner.github_runner_id as number;
      t.simulator.injectFault({ method: 'DELETE', path: `/orgs/${t.simulator.org}/actions/runners/${id}`, delayMs: 400 });
      const deleting = remove(alice, runner.runner_id).then((response) => response);
      // Meanwhile the runner came online and a refresh recorded it.
      t.simulator.setRunnerStatus(id, { status: 'online' });
      expect((await refresh(alice, runner.runner_id)).body.status).toBe('active');

      const deleted = await deleting;
      expect(deleted.status).toBe(200);
      expect(deleted.body.status).toBe('deleted');
      expect(t.simulator.findRunnerByName('delete-racing')).toBeUndefined();
      const stored = await request(t.server).get(`${RUNNERS}/${runner.runner_id}`).auth(alice, { type: 'bearer' });
      expect(stored.body.status).toBe('deleted');
      expect((await auditOf(runner.runner_id, 'delete')).map((event) => event.outcome)).toEqual(['succeeded']);
    });

    it('answers 404 for another owner’s runner and leaves it on GitHub', async () => {
      const runner = await provision(alice, 'delete-not-yours');
      expect((await remove(bob, runner.runner_id)).status).toBe(404);
      expect(t.simulator.findRunnerByName('delete-not-yours')).toBeDefined();
    });
  });
});
