import request from 'supertest';
import { AuditService } from '../src/audit/audit.service.js';
import { adminPolicy } from './support/admin.js';
import type { PolicyFile } from './support/policy.js';
import { startTestApp, type TestApp } from './support/app.js';

const ADMIN = '/api/v1/admin';

interface AdminRunnerBody {
  runner_id: string;
  runner_name: string;
  status: string;
  labels: string[];
  github_runner_id: number | null;
  owner: string;
  owner_name: string;
  owner_issuer: string;
  owner_subject: string;
  policy_rule: string | null;
}

interface AuditEventBody {
  id: string;
  actor: string;
  action: string;
  outcome: string;
  runner_name: string | null;
  details: Record<string, unknown>;
}

describe('Admin API: runners and the audit trail (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;
  let admin: string;
  let alice: string;
  let bob: string;
  /** Names in the order they were provisioned (oldest first). */
  const provisioned: string[] = [];

  beforeAll(async () => {
    // TEMPORARY (see test/support/admin.ts): admin-sub is an admin until a policy file can say so.
    policy = adminPolicy('admin-sub');
    t = await startTestApp({ policyFile: policy.path });
    admin = await t.oidc.token({ sub: 'admin-sub', email: 'admin@example.com' });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
    for (const [token, name, labels] of [
      [alice, 'alice-gpu', ['gpu']],
      [bob, 'bob-gpu', ['GPU', 'large']],
      [alice, 'alice-cpu', ['cpu']],
      [bob, 'bob-cpu', ['cpu']],
      [bob, 'bob-arm', ['arm64']],
    ] as const) {
      const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels });
      expect(response.status).toBe(201);
      provisioned.push(name);
    }
    // As provisioning under a policy file records them.
    await t.dataSource.query(`UPDATE runners SET policy_rule = CASE WHEN owner_subject = 'alice-sub' THEN 'team-a' ELSE 'team-b' END`);
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  const get = (token: string, path: string) => request(t.server).get(`${ADMIN}${path}`).auth(token, { type: 'bearer' });
  const names = (body: { runners: AdminRunnerBody[] }) => body.runners.map((runner) => runner.runner_name);

  describe('refused to callers who are not admins', () => {
    const routes: [string, string, Record<string, unknown> | null][] = [
      ['GET', '/runners', null],
      ['GET', '/runners?status=nonsense', null],
      ['DELETE', '/runners/bob-arm', null],
      ['GET', '/audit-events', null],
      ['GET', '/audit-events?since=yesterday', null],
      ['POST', '/identities/suspend', { issuer: 'https://issuer.test', subject: 'bob-sub', remove_runners: true }],
      // A body the admin would get a 400 for: the non-admin learns nothing about the rules.
      ['POST', '/identities/suspend', { rule: 'team-b', issuer: 'x' }],
      ['POST', '/identities/resume', { rule: 'team-b' }],
      ['GET', '/suspensions', null],
      ['GET', '/foreign-runners?limit=0', null],
    ];

    it.each(routes)('answers 403 FORBIDDEN to %s %s', async (method, path, body) => {
      const call = request(t.server)[method.toLowerCase() as 'get' | 'post' | 'delete'](`${ADMIN}${path}`).auth(alice, { type: 'bearer' });
      const response = body ? await call.send(body) : await call;
      expect(response.status).toBe(403);
      expect(response.body.error).toEqual({ code: 'FORBIDDEN', message: 'This needs an identity that the policy grants admin: true' });
    });

    it('changed nothing: the runner is still on GitHub and nobody is suspended', async () => {
      expect(t.simulator.findRunnerByName('bob-arm')).toBeDefined();
      expect(await t.dataSource.query(`SELECT id FROM suspensions`)).toEqual([]);
    });

    it('answers 401 without a token, as every other route', async () => {
      const response = await request(t.server).get(`${ADMIN}/runners`);
      expect(response.status).toBe(401);
    });

    it('documents the 403 of every admin operation, and their operation ids', async () => {
      const document = (await request(t.server).get('/docs/openapi.json').expect(200)).body;
      const operations = Object.entries(document.paths as Record<string, Record<string, { operationId: string; responses: object }>>)
        .filter(([path]) => path.startsWith(ADMIN))
        .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
      expect(operations.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}`).sort()).toEqual([
        `delete ${ADMIN}/runners/{idOrName} adminDeleteRunner`,
        `get ${ADMIN}/audit-events adminListAuditEvents`,
        `get ${ADMIN}/foreign-runners adminListForeignRunners`,
        `get ${ADMIN}/runners adminListRunners`,
        `get ${ADMIN}/suspensions listSuspensions`,
        `post ${ADMIN}/identities/resume resumeIdentity`,
        `post ${ADMIN}/identities/suspend suspendIdentity`,
      ]);
      for (const { operation } of operations) expect(operation.responses).toHaveProperty('403');
      expect(Object.keys(document.components.schemas.AdminRunnerResponseDto.properties)).toEqual(
        expect.arrayContaining(['runner_id', 'owner', 'owner_name', 'owner_issuer', 'owner_subject', 'policy_rule']),
      );
    });
  });

  describe('GET /admin/runners', () => {
    it("lists every owner's runners newest first, with each owner's identity and rule", async () => {
      const response = await get(admin, '/runners');
      expect(response.status).toBe(200);
      expect(names(response.body)).toEqual([...provisioned].reverse());
      expect(response.body).toMatchObject({ next_cursor: null, next: null });
      const bobGpu = response.body.runners.find((runner: AdminRunnerBody) => runner.runner_name === 'bob-gpu');
      expect(bobGpu).toMatchObject({
        status: 'pending',
        labels: ['self-hosted', 'linux', 'x64', 'gpu', 'large'],
        owner: 'bob@example.com',
        owner_name: 'bob@example.com',
        owner_issuer: t.oidc.issuer,
        owner_subject: 'bob-sub',
        policy_rule: 'team-b',
        github_runner_id: t.simulator.findRunnerByName('bob-gpu')?.id,
      });
    });

    it.each([
      ['owner=alice@example.com', ['alice-cpu', 'alice-gpu']],
      ['owner=bob-sub', ['bob-arm', 'bob-cpu', 'bob-gpu']],
      ['rule=team-a', ['alice-cpu', 'alice-gpu']],
      ['label=GPU', ['bob-gpu', 'alice-gpu']],
      ['label=cpu&owner=bob-sub', ['bob-cpu']],
      ['rule=team-b&label=arm64&status=pending', ['bob-arm']],
      ['status=active', []],
      ['owner=nobody', []],
    ])('filters by %s', async (query, expected) => {
      const response = await get(admin, `/runners?${query}`);
      expect(response.status).toBe(200);
      expect(names(response.body)).toEqual(expected);
    });

    it('pages with next_cursor and next, keeping the filters, each runner exactly once', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let path = `${ADMIN}/runners?owner=bob-sub&limit=2`;
      for (;;) {
        const page = await request(t.server).get(path).auth(admin, { type: 'bearer' });
        expect(page.status).toBe(200);
        sizes.push(page.body.runners.length);
        seen.push(...names(page.body));
        if (page.body.next_cursor === null) {
          expect(page.body.next).toBeNull();
          break;
        }
        expect(page.body.next).toBe(`${ADMIN}/runners?owner=bob-sub&limit=2&cursor=${page.body.next_cursor}`);
        path = page.body.next;
      }
      expect(sizes).toEqual([2, 1]);
      expect(seen).toEqual(['bob-arm', 'bob-cpu', 'bob-gpu']);
    });

    it('answers 400 naming the parameter for a bad filter, limit or cursor', async () => {
      for (const [query, field] of [
        ['status=running', 'status'],
        ['limit=0', 'limit'],
        ['cursor=bm90LWEtdXVpZA', 'cursor'],
        // The id of no runner at all.
        [`cursor=${Buffer.from('00000000-0000-4000-8000-000000000000').toString('base64url')}`, 'cursor'],
        ['label=two%20words', 'label'],
        ['owner=', 'owner'],
        [`rule=${'r'.repeat(129)}`, 'rule'],
        ['colour=blue', 'colour'],
      ]) {
        const response = await get(admin, `/runners?${query}`);
        expect({ query, status: response.status, code: response.body.error.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
        expect(response.body.error.message).toMatch(new RegExp(`^${field} `));
      }
    });
  });

  describe('DELETE /admin/runners/{id-or-name}', () => {
    it("removes another owner's runner from GitHub, marks it deleted, and audits it with the admin as actor and the owner in details", async () => {
      const [row] = await t.dataSource.query(`SELECT id FROM runners WHERE name = 'bob-cpu'`);
      const deleted = await request(t.server).delete(`${ADMIN}/runners/${row.id}`).auth(admin, { type: 'bearer' });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ runner_id: row.id, runner_name: 'bob-cpu', status: 'deleted', owner_subject: 'bob-sub', policy_rule: 'team-b' });
      expect(t.simulator.findRunnerByName('bob-cpu')).toBeUndefined();
      const events = await t.dataSource.query(
        `SELECT actor, actor_subject, outcome, details FROM audit_events WHERE runner_id = $1 AND action = 'delete'`,
        [row.id],
      );
      expect(events).toEqual([
        {
          actor: 'admin@example.com',
          actor_subject: 'admin-sub',
          outcome: 'succeeded',
          details: expect.objectContaining({
            from: 'pending',
            github: 'deleted',
            owner: { issuer: t.oidc.issuer, subject: 'bob-sub', name: 'bob@example.com' },
          }),
        },
      ]);
      // Bob sees it deleted, as if he had deleted it himself.
      const own = await request(t.server).get(`/api/v1/runners/${row.id}`).auth(bob, { type: 'bearer' });
      expect(own.body.status).toBe('deleted');
      // Again: already deleted, and says so.
      const again = await request(t.server).delete(`${ADMIN}/runners/bob-cpu`).auth(admin, { type: 'bearer' });
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('deleted');
    });

    it('answers 409 RUNNER_BUSY for a runner running a job, 404 for one that does not exist', async () => {
      const githubId = t.simulator.findRunnerByName('alice-cpu')?.id as number;
      t.simulator.setRunnerStatus(githubId, { status: 'online', busy: true });
      try {
        const busy = await request(t.server).delete(`${ADMIN}/runners/alice-cpu`).auth(admin, { type: 'bearer' });
        expect(busy.status).toBe(409);
        expect(busy.body.error.code).toBe('RUNNER_BUSY');
        expect(t.simulator.findRunnerByName('alice-cpu')).toBeDefined();
      } finally {
        t.simulator.setRunnerStatus(githubId, { status: 'offline', busy: false });
      }
      const missing = await request(t.server).delete(`${ADMIN}/runners/no-such-runner`).auth(admin, { type: 'bearer' });
      expect(missing.status).toBe(404);
      expect(missing.body.error).toEqual({ code: 'RUNNER_NOT_FOUND', message: 'No runner has the id or name "no-such-runner"' });
    });
  });

  describe('GET /admin/audit-events', () => {
    const events = (body: { events: AuditEventBody[] }) => body.events;

    it('answers the events newest first, exactly as export-audit-log exports them', async () => {
      const response = await get(admin, '/audit-events');
      expect(response.status).toBe(200);
      const exported = [];
      for await (const event of t.app.get(AuditService).exportEvents({})) exported.push(event);
      expect(events(response.body)).toEqual(exported);
      expect(exported.length).toBeGreaterThan(5);
      expect(response.body).toMatchObject({ next_cursor: null, next: null });
    });

    it("filters by event_type (an action or its prefix), user (an actor's name or subject) and since", async () => {
      const deletes = await get(admin, '/audit-events?event_type=DELETE&user=admin-sub');
      expect(deletes.status).toBe(200);
      expect(events(deletes.body).map((event) => [event.action, event.outcome, event.runner_name])).toEqual([
        ['delete', 'denied', 'alice-cpu'],
        ['delete', 'succeeded', 'bob-cpu'],
      ]);
      const provisions = await get(admin, '/audit-events?event_type=provision&user=alice@example.com');
      expect(events(provisions.body).map((event) => [event.actor, event.action, event.outcome, event.runner_name])).toEqual([
        ['alice@example.com', 'provision_jit', 'succeeded', 'alice-cpu'],
        ['alice@example.com', 'provision_jit', 'attempted', 'alice-cpu'],
        ['alice@example.com', 'provision_jit', 'succeeded', 'alice-gpu'],
        ['alice@example.com', 'provision_jit', 'attempted', 'alice-gpu'],
      ]);
      const future = await get(admin, '/audit-events?since=2999-01-01');
      expect(events(future.body)).toEqual([]);
      const past = await get(admin, `/audit-events?since=${encodeURIComponent('2000-01-01T00:00:00+02:00')}&event_type=provision`);
      // Each provisioning wrote two events: attempted, then succeeded.
      expect(events(past.body)).toHaveLength(10);
    });

    it('pages with next_cursor and next, keeping the filters, each event exactly once', async () => {
      const all = events((await get(admin, '/audit-events?event_type=provision')).body).map((event) => event.id);
      const seen: string[] = [];
      const sizes: number[] = [];
      let path = `${ADMIN}/audit-events?event_type=provision&since=2000-01-01&limit=4`;
      for (;;) {
        const page = await request(t.server).get(path).auth(admin, { type: 'bearer' });
        expect(page.status).toBe(200);
        sizes.push(page.body.events.length);
        seen.push(...events(page.body).map((event) => event.id));
        if (page.body.next === null) break;
        expect(page.body.next).toBe(
          `${ADMIN}/audit-events?since=2000-01-01T00%3A00%3A00.000Z&event_type=provision&limit=4&cursor=${page.body.next_cursor}`,
        );
        path = page.body.next;
      }
      expect(sizes).toEqual([4, 4, 2]);
      expect(seen).toEqual(all);
      expect(all).toHaveLength(10);
    });

    it('answers 400 naming the parameter for a bad filter, limit or cursor', async () => {
      for (const [query, field] of [
        ['since=yesterday', 'since'],
        ['since=2026-02-30', 'since'],
        ['since=2026-01-01T12:00:00', 'since'],
        ['event_type=provision%20jit', 'event_type'],
        ['user=%20', 'user'],
        ['limit=501', 'limit'],
        ['cursor=not*a*cursor', 'cursor'],
      ]) {
        const response = await get(admin, `/audit-events?${query}`);
        expect({ query, status: response.status, code: response.body.error.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
        expect(response.body.error.message).toMatch(new RegExp(`^${field} `));
      }
    });
  });
});
