import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { Transactions } from '../src/database/transactions.service.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { SuspensionsService } from '../src/suspensions/suspensions.service.js';
import { adminPolicy } from './support/admin.js';
import type { PolicyFile } from './support/policy.js';
import { startTestApp, type TestApp } from './support/app.js';

const ADMIN = '/api/v1/admin';

interface RemovalEntry {
  runner_id: string;
  runner_name: string;
  owner: string;
  github_runner_id: number | null;
}

describe('Admin API: the kill switch (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;
  let admin: string;
  let otherAdmin: string;
  let suspensions: SuspensionsService;
  let issuer: string;

  beforeAll(async () => {
    // TEMPORARY (see test/support/admin.ts): these subjects are admins until a policy file can say so.
    policy = adminPolicy('admin-sub', 'admin2-sub');
    t = await startTestApp({ policyFile: policy.path });
    admin = await t.oidc.token({ sub: 'admin-sub', email: 'admin@example.com' });
    otherAdmin = await t.oidc.token({ sub: 'admin2-sub', email: 'admin2@example.com' });
    suspensions = t.app.get(SuspensionsService);
    issuer = t.oidc.issuer;
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  afterEach(() => {
    t.simulator.clearFaults();
  });

  const suspend = (body: Record<string, unknown>, token = admin) =>
    request(t.server).post(`${ADMIN}/identities/suspend`).auth(token, { type: 'bearer' }).send(body);
  const resume = (body: Record<string, unknown>, token = admin) =>
    request(t.server).post(`${ADMIN}/identities/resume`).auth(token, { type: 'bearer' }).send(body);
  const identity = (subject: string) => ({ issuer, subject });

  async function provision(subject: string, name: string): Promise<{ id: string; githubId: number }> {
    const token = await t.oidc.token({ sub: subject, email: `${subject}@example.com` });
    const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels: ['ks'] });
    expect(response.status).toBe(201);
    return { id: response.body.runner_id, githubId: t.simulator.findRunnerByName(name)?.id as number };
  }

  const statusOf = async (name: string): Promise<string> =>
    (await t.dataSource.query(`SELECT status FROM runners WHERE name = $1`, [name]))[0].status;
  const auditOf = (action: string): Promise<{ actor: string; outcome: string; details: Record<string, unknown> }[]> =>
    t.dataSource.query(`SELECT actor, outcome, details FROM audit_events WHERE action = $1 ORDER BY occurred_at`, [action]);
  const entryNames = (entries: RemovalEntry[]) => entries.map((entry) => entry.runner_name);

  describe('an identity', () => {
    it('suspends it, says so, and audits it; isSuspended then answers yes for it alone', async () => {
      const response = await suspend({ ...identity('mallory-sub'), reason: 'Leaked token, INC-1' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        kind: 'identity',
        issuer,
        subject: 'mallory-sub',
        rule: null,
        suspended_at: expect.any(String),
        suspended_by: 'admin@example.com',
        reason: 'Leaked token, INC-1',
        already_suspended: false,
        runner_removal: null,
      });
      expect(await suspensions.isSuspended(undefined, identity('mallory-sub'), null)).toBe(true);
      expect(await suspensions.isSuspended(undefined, identity('mallory-sub'), 'any-rule')).toBe(true);
      expect(await suspensions.isSuspended(undefined, { issuer: 'https://other.example', subject: 'mallory-sub' }, null)).toBe(false);
      expect(await suspensions.isSuspended(undefined, identity('someone-else'), null)).toBe(false);
      // Inside a transaction, as provisioning asks.
      expect(await t.app.get(Transactions).run((tx) => suspensions.isSuspended(tx, identity('mallory-sub'), null))).toBe(true);

      expect(await auditOf('suspend_identity')).toEqual([
        {
          actor: 'admin@example.com',
          outcome: 'succeeded',
          details: { target: { issuer, subject: 'mallory-sub' }, reason: 'Leaked token, INC-1' },
        },
      ]);
      const listed = await request(t.server).get(`${ADMIN}/suspensions`).auth(admin, { type: 'bearer' });
      expect(listed.body).toEqual({ suspensions: [expect.objectContaining({ kind: 'identity', subject: 'mallory-sub' })] });
    });

    it('refuses the suspended identity with IDENTITY_SUSPENDED, naming it and how to get it lifted, never the reason', async () => {
      const refusal = suspensions.assertNotSuspended(identity('mallory-sub'), null);
      await expect(refusal).rejects.toMatchObject({
        code: 'IDENTITY_SUSPENDED',
        message:
          `Your identity (subject "mallory-sub" of issuer ${issuer}) is suspended: an admin must resume it ` +
          '(POST /api/v1/admin/identities/resume, or the resume-identity command) before you can use this service again',
        details: { suspended: [{ kind: 'identity', issuer, subject: 'mallory-sub', suspended_at: expect.any(String) }] },
      });
      await expect(suspensions.assertNotSuspended(identity('someone-else'), null)).resolves.toBeUndefined();
    });

    it.each([
      ['its identity', 'unseen-identity', (subject: string) => [issuer, subject, null]],
      ['its rule', 'unseen-rule', () => [null, null, 'everyone']],
    ])(
      'stops a provisioning on a suspension of %s that this instance has not read yet (another instance made it): no row, no GitHub call',
      async (_target, name, columns) => {
        const subject = 'unseen-sub';
        const token = await t.oidc.token({ sub: subject });
        // This instance reads the suspensions now, before the other instance writes its own.
        await request(t.server).get('/api/v1/runners').auth(token, { type: 'bearer' }).expect(200);
        await t.dataSource.query(
          `INSERT INTO suspensions (issuer, subject, rule, created_by) VALUES ($1, $2, $3, 'another instance')`,
          columns(subject),
        );
        const githubCalls = t.simulator.requests().length;
        try {
          const refused = await request(t.server)
            .post('/api/v1/runners/jit')
            .auth(token, { type: 'bearer' })
            .send({ runner_name: name })
            .expect(403);
          expect(refused.body.error.code).toBe('IDENTITY_SUSPENDED');
          expect(await t.dataSource.query(`SELECT 1 FROM runners WHERE name = $1`, [name])).toEqual([]);
          expect(t.simulator.requests().slice(githubCalls).filter((call) => call.method === 'POST')).toEqual([]);
          const events: { outcome: string }[] = await t.dataSource.query(
            `SELECT outcome FROM audit_events WHERE runner_name = $1 ORDER BY occurred_at`,
            [name],
          );
          expect(events.map((event) => event.outcome)).toEqual(['denied']);
        } finally {
          await t.dataSource.query(`DELETE FROM suspensions WHERE created_by = 'another instance'`);
        }
      },
    );

    it('suspending it again changes nothing and says so; the first suspension stands', async () => {
      const [first] = (await request(t.server).get(`${ADMIN}/suspensions`).auth(admin, { type: 'bearer' })).body.suspensions;
      const again = await suspend({ ...identity('mallory-sub'), reason: 'another reason' }, otherAdmin);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({
        already_suspended: true,
        suspended_at: first.suspended_at,
        suspended_by: 'admin@example.com',
        reason: 'Leaked token, INC-1',
      });
      const events = await auditOf('suspend_identity');
      expect(events[1]).toEqual({
        actor: 'admin2@example.com',
        outcome: 'succeeded',
        details: { target: { issuer, subject: 'mallory-sub' }, reason: 'another reason', already_suspended: true },
      });
    });

    it('resumes it, and resuming it again changes nothing and says so; both are audited', async () => {
      const resumed = await resume(identity('mallory-sub'));
      expect(resumed.status).toBe(200);
      expect(resumed.body).toEqual({
        kind: 'identity',
        issuer,
        subject: 'mallory-sub',
        rule: null,
        was_suspended: true,
        lifted: expect.objectContaining({ kind: 'identity', subject: 'mallory-sub', reason: 'Leaked token, INC-1' }),
      });
      expect(await suspensions.isSuspended(undefined, identity('mallory-sub'), null)).toBe(false);

      const again = await resume(identity('mallory-sub'));
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ was_suspended: false, lifted: null });
      expect(await auditOf('resume_identity')).toEqual([
        {
          actor: 'admin@example.com',
          outcome: 'succeeded',
          details: { target: { issuer, subject: 'mallory-sub' }, suspended_at: expect.any(String), suspended_by: 'admin@example.com' },
        },
        { actor: 'admin@example.com', outcome: 'succeeded', details: { target: { issuer, subject: 'mallory-sub' }, was_suspended: false } },
      ]);
      expect((await request(t.server).get(`${ADMIN}/suspensions`).auth(admin, { type: 'bearer' })).body).toEqual({ suspensions: [] });
    });
  });

  describe('with remove_runners', () => {
    it("removes the identity's idle runners from GitHub, leaves busy ones and lists both; others' runners stay", async () => {
      const idle = await provision('carol-sub', 'carol-idle');
      const busy = await provision('carol-sub', 'carol-busy');
      const gone = await provision('carol-sub', 'carol-gone');
      await provision('dave-sub', 'dave-idle');
      t.simulator.setRunnerStatus(busy.githubId, { status: 'online', busy: true });
      // An ephemeral runner that ran its job: GitHub has removed it already.
      t.simulator.setRunnerStatus(gone.githubId, { status: 'online' });
      t.simulator.completeJob(gone.githubId);

      const response = await suspend({ ...identity('carol-sub'), remove_runners: true });
      expect(response.status).toBe(200);
      expect(response.body.already_suspended).toBe(false);
      const removal = response.body.runner_removal;
      expect(removal.removed).toEqual([
        { runner_id: idle.id, runner_name: 'carol-idle', owner: 'carol-sub@example.com', github_runner_id: idle.githubId, github: 'deleted' },
        { runner_id: gone.id, runner_name: 'carol-gone', owner: 'carol-sub@example.com', github_runner_id: gone.githubId, github: 'already-gone' },
      ]);
      expect(removal.busy).toEqual([
        {
          runner_id: busy.id,
          runner_name: 'carol-busy',
          owner: 'carol-sub@example.com',
          github_runner_id: busy.githubId,
          reason: 'Runner "carol-busy" is running a job on GitHub and was left as it is; delete it when the job is done',
        },
      ]);
      expect(removal.failed).toEqual([]);

      expect(t.simulator.findRunnerByName('carol-idle')).toBeUndefined();
      expect(t.simulator.findRunnerByName('carol-busy')).toBeDefined();
      expect(t.simulator.findRunnerByName('dave-idle')).toBeDefined();
      expect(await statusOf('carol-idle')).toBe('deleted');
      expect(await statusOf('carol-gone')).toBe('deleted');
      expect(await statusOf('carol-busy')).toBe('pending');
      expect(await statusOf('dave-idle')).toBe('pending');

      // The same events as an ordinary delete, with the admin as actor and the owner in details.
      const deletes = await t.dataSource.query(
        `SELECT runner_name, actor, outcome, details->'owner'->>'subject' AS owner FROM audit_events WHERE action = 'delete' ORDER BY occurred_at`,
      );
      expect(deletes).toEqual([
        { runner_name: 'carol-idle', actor: 'admin@example.com', outcome: 'succeeded', owner: 'carol-sub' },
        { runner_name: 'carol-busy', actor: 'admin@example.com', outcome: 'denied', owner: 'carol-sub' },
        { runner_name: 'carol-gone', actor: 'admin@example.com', outcome: 'succeeded', owner: 'carol-sub' },
      ]);
    });

    it('asked again once the busy runner is idle, removes it: the suspension stands as it was', async () => {
      const busy = t.simulator.findRunnerByName('carol-busy');
      t.simulator.setRunnerStatus(busy?.id as number, { busy: false });
      const response = await suspend({ ...identity('carol-sub'), remove_runners: true });
      expect(response.status).toBe(200);
      expect(response.body.already_suspended).toBe(true);
      expect(entryNames(response.body.runner_removal.removed)).toEqual(['carol-busy']);
      expect(response.body.runner_removal.busy).toEqual([]);
      expect(t.simulator.findRunnerByName('carol-busy')).toBeUndefined();
      expect(await statusOf('carol-busy')).toBe('deleted');
    });

    it('leaves the runners of a suspension without remove_runners, and the cleanup removes a busy one of remove_runners once idle', async () => {
      await provision('gina-sub', 'gina-kept');
      const busy = await provision('hank-sub', 'hank-busy');
      t.simulator.setRunnerStatus(busy.githubId, { status: 'online', busy: true });
      await suspend(identity('gina-sub')).expect(200);
      const suspended = await suspend({ ...identity('hank-sub'), remove_runners: true }).expect(200);
      expect(entryNames(suspended.body.runner_removal.busy)).toEqual(['hank-busy']);
      const cleanup = t.app.get(StaleCleanupService);

      const whileBusy = await cleanup.cleanupStaleRunners(Actor.system('scheduler'), { hours: 24, dryRun: false });
      expect(entryNames(whileBusy.suspended?.busy ?? [])).toEqual(['hank-busy']);
      expect(t.simulator.findRunnerByName('hank-busy')).toBeDefined();

      t.simulator.setRunnerStatus(busy.githubId, { busy: false });
      const onceIdle = await cleanup.cleanupStaleRunners(Actor.system('scheduler'), { hours: 24, dryRun: false });
      expect(entryNames(onceIdle.suspended?.removed ?? [])).toEqual(['hank-busy']);
      expect(t.simulator.findRunnerByName('hank-busy')).toBeUndefined();
      expect(await statusOf('hank-busy')).toBe('deleted');
      // Suspended without remove_runners: its runner stays until an admin asks.
      expect(t.simulator.findRunnerByName('gina-kept')).toBeDefined();
      expect(await statusOf('gina-kept')).toBe('pending');
    });

    it('lists a runner GitHub failed to remove and goes on with the others; the suspension stands', async () => {
      const failing = await provision('erin-sub', 'erin-failing');
      await provision('erin-sub', 'erin-idle');
      t.simulator.injectFault({ method: 'DELETE', path: `/orgs/${t.simulator.org}/actions/runners/${failing.githubId}`, status: 500 });

      const response = await suspend({ ...identity('erin-sub'), remove_runners: true });
      expect(response.status).toBe(200);
      expect(entryNames(response.body.runner_removal.removed)).toEqual(['erin-idle']);
      expect(response.body.runner_removal.failed).toEqual([
        expect.objectContaining({ runner_name: 'erin-failing', error_code: 'GITHUB_UNAVAILABLE', reason: expect.any(String) }),
      ]);
      expect(await statusOf('erin-failing')).toBe('pending');
      expect(await suspensions.isSuspended(undefined, identity('erin-sub'), null)).toBe(true);
    });

    it("removes a rule's runners, whoever owns them, and only theirs", async () => {
      await provision('frank-sub', 'frank-team-x');
      await provision('grace-sub', 'grace-team-x');
      await provision('grace-sub', 'grace-team-y');
      // As provisioning under a policy file records them.
      await t.dataSource.query(`UPDATE runners SET policy_rule = split_part(name, '-', 2) || '-' || split_part(name, '-', 3) WHERE name LIKE '%-team-_'`);

      const response = await suspend({ rule: 'team-x', remove_runners: true, reason: 'Rule too broad' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ kind: 'rule', issuer: null, subject: null, rule: 'team-x', reason: 'Rule too broad' });
      expect(entryNames(response.body.runner_removal.removed)).toEqual(['frank-team-x', 'grace-team-x']);
      expect(t.simulator.findRunnerByName('grace-team-y')).toBeDefined();
      expect(await statusOf('grace-team-y')).toBe('pending');

      // Everyone the rule matched is suspended; the same identity under another rule is not.
      expect(await suspensions.isSuspended(undefined, identity('grace-sub'), 'team-x')).toBe(true);
      expect(await suspensions.isSuspended(undefined, identity('grace-sub'), 'team-y')).toBe(false);
      await expect(suspensions.assertNotSuspended(identity('grace-sub'), 'team-x')).rejects.toMatchObject({
        code: 'IDENTITY_SUSPENDED',
        message:
          'Everyone the policy rule "team-x" matched is suspended, you included: an admin must resume the rule ' +
          '(POST /api/v1/admin/identities/resume, or the resume-identity command) before you can use this service again',
      });
      expect((await auditOf('suspend_identity')).at(-1)?.details).toEqual({ target: { rule: 'team-x' }, reason: 'Rule too broad' });

      const resumed = await resume({ rule: 'team-x' });
      expect(resumed.body).toMatchObject({ kind: 'rule', rule: 'team-x', was_suspended: true });
      expect(await suspensions.isSuspended(undefined, identity('grace-sub'), 'team-x')).toBe(false);
      // Removed runners stay removed.
      expect(await statusOf('frank-team-x')).toBe('deleted');
    });
  });

  describe('a suspended admin', () => {
    it('is refused the admin API with IDENTITY_SUSPENDED until another admin resumes it', async () => {
      expect((await suspend(identity('admin2-sub'))).status).toBe(200);
      const refused = await request(t.server).get(`${ADMIN}/suspensions`).auth(otherAdmin, { type: 'bearer' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('IDENTITY_SUSPENDED');
      expect(refused.body.error.message).toMatch(/^Your identity \(subject "admin2-sub" of issuer .*\) is suspended: an admin must resume it/);
      expect((await resume(identity('admin2-sub'), otherAdmin)).status).toBe(403);

      expect((await resume(identity('admin2-sub'))).body.was_suspended).toBe(true);
      expect((await request(t.server).get(`${ADMIN}/suspensions`).auth(otherAdmin, { type: 'bearer' })).status).toBe(200);
    });
  });

  describe('validation', () => {
    it.each<[string, Record<string, unknown>, RegExp]>([
      ['neither form', { remove_runners: true }, /^send either issuer and subject \(one identity\) or rule \(everyone a policy rule matched\)$/],
      ['both forms', { issuer: 'https://login.example.com', subject: 's', rule: 'r' }, /not both$/],
      ['issuer alone', { issuer: 'https://login.example.com' }, /^subject is required with issuer/],
      ['subject alone', { subject: 's' }, /^issuer is required with subject/],
      ['an issuer that is no URL', { issuer: 'login.example.com', subject: 's' }, /^issuer must be the token's iss exactly as it carries it: an https:\/\/ \(or http:\/\/\) URL$/],
      ['a blank rule', { rule: ' ' }, /^rule must be a policy rule's name/],
      ['remove_runners as a string', { rule: 'r', remove_runners: 'yes' }, /^remove_runners must be true or false/],
      ['a reason too long', { rule: 'r', reason: 'x'.repeat(501) }, /^reason must be at most 500 characters$/],
      ['an unknown field', { rule: 'r', runners: true }, /^runners is not a known field; remove it$/],
    ])('answers 400 VALIDATION_FAILED to %s, saying why, and suspends nothing', async (_case, body, message) => {
      for (const call of [suspend, resume]) {
        if (call === resume && ('remove_runners' in body || 'reason' in body)) continue;
        const response = await call(body);
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('VALIDATION_FAILED');
        expect(response.body.error.message).toMatch(message);
      }
      const listed = await request(t.server).get(`${ADMIN}/suspensions`).auth(admin, { type: 'bearer' });
      expect(listed.body.suspensions.map((suspension: { subject: string | null }) => suspension.subject)).toEqual(['erin-sub', 'hank-sub', 'gina-sub', 'carol-sub']);
    });
  });
});
