/**
 * What workflow_job deliveries do to runners, end to end: runners provisioned over HTTP (JIT, with
 * a bind_to_run rule for GitHub Actions tokens), GitHub's example payloads pointed at them and
 * signed by the test, the simulator over HTTP for GitHub's side, and the sync and cleanup as the
 * service runs them.
 */
import request from 'supertest';
import { Actor } from '../src/auth/actor.js';
import { Metrics } from '../src/metrics/metrics.js';
import { GithubSyncService } from '../src/runners/reconciliation/github-sync.service.js';
import { StaleCleanupService } from '../src/runners/reconciliation/stale-cleanup.service.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GITHUB_ACTIONS_ISSUER, githubActionsClaims, TestOidcProvider } from './support/oidc.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';
import { signedDelivery, type WorkflowJobChanges, workflowJobPayload } from './support/webhooks.js';

const SECRET = 'webhook-secret-for-tests-0123456789';
const RUNNERS = '/api/v1/runners';

interface RunnerBody {
  runner_id: string;
  runner_name: string;
  status: string;
  busy: boolean;
  github_runner_id: number;
  labels: string[];
  job: { repository: string; run_id: number; run_attempt: number | null; job_id: number; conclusion: string | null } | null;
}

interface AuditRow {
  action: string;
  outcome: string;
  actor: string;
  details: Record<string, unknown>;
}

describe('workflow_job webhooks and runners (e2e)', () => {
  let t: TestApp;
  let actions: TestOidcProvider;
  let policy: PolicyFile;
  let alice: string;
  let nextJobId = 50_000_000_000;

  beforeAll(async () => {
    actions = await TestOidcProvider.start({ issuer: GITHUB_ACTIONS_ISSUER });
    policy = writePolicyFile(`
issuers:
  - name: github-actions
    issuer: ${GITHUB_ACTIONS_ISSUER}
    jwks_url: ${actions.jwksUrl}
    audience: runner-token-service
rules:
  - name: per-run
    issuer: github-actions
    claims: { repository_owner: acme }
    grant: { bind_to_run: true }
  - name: people
    issuer: default
    claims: { sub: { pattern: ".+" } }
    grant: { labels: { allowed: [{ pattern: ".+" }] }, registration_tokens: true }
`);
    t = await startTestApp({ policyFile: policy.path, github: { webhookSecret: SECRET } });
    alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
  });

  afterAll(async () => {
    await t?.close();
    await actions?.stop();
    policy?.remove();
  });

  async function provision(name: string, labels: string[] = ['webhooks']): Promise<RunnerBody> {
    const response = await request(t.server).post(`${RUNNERS}/jit`).auth(alice, { type: 'bearer' }).send({ runner_name: name, labels });
    expect(response.status).toBe(201);
    return getRunner(name, alice);
  }

  /** A runner bound to run `runId` attempt 1, as a job of that run asks for it. */
  async function provisionBound(runId: number): Promise<{ runner: RunnerBody; token: string }> {
    const token = await actions.token(githubActionsClaims({ owner: 'acme', repo: 'api', run_id: runId, run_attempt: 1 }));
    const response = await request(t.server).post(`${RUNNERS}/jit`).auth(token, { type: 'bearer' }).send({ runner_name_prefix: `bound-${runId}` });
    expect(response.status).toBe(201);
    expect(response.body.labels).toEqual([`run-${runId}-1`]);
    return { runner: await getRunner(response.body.runner_name, token), token };
  }

  async function getRunner(idOrName: string, token = alice): Promise<RunnerBody> {
    const response = await request(t.server).get(`${RUNNERS}/${idOrName}`).auth(token, { type: 'bearer' }).expect(200);
    return response.body as RunnerBody;
  }

  /** Delivers one workflow_job event about `runner` (GitHub's example payload, changed as asked), signed. */
  async function deliver(
    action: 'queued' | 'in_progress' | 'completed',
    changes: WorkflowJobChanges,
    deliveryId?: string,
  ): Promise<{ outcome: string; runner_removal?: string }> {
    const payload = workflowJobPayload(action, { org: t.simulator.org, repository: 'acme/api', runAttempt: 1, ...changes });
    const delivery = await signedDelivery(SECRET, 'workflow_job', payload, deliveryId);
    const response = await request(t.server).post('/api/v1/webhooks/github').set(delivery.headers).send(delivery.body);
    expect(response.status).toBe(200);
    return response.body;
  }

  const onRunner = (runner: RunnerBody) => ({ runnerId: runner.github_runner_id, runnerName: runner.runner_name, runnerGroupName: 'Default' });
  const auditOf = (runnerId: string): Promise<AuditRow[]> =>
    t.dataSource.query(`SELECT action, outcome, actor, details FROM audit_events WHERE runner_id = $1 ORDER BY occurred_at, id`, [runnerId]);

  describe('status in real time', () => {
    it('in_progress marks the runner active and busy, and its answer shows the job that took it', async () => {
      const runner = await provision('wh-start');
      const jobId = nextJobId++;
      const result = await deliver('in_progress', { ...onRunner(runner), runId: 7001, jobId });

      expect(result.outcome).toBe('runner_started');
      const seen = await getRunner('wh-start');
      expect(seen).toMatchObject({ status: 'active', busy: true });
      expect(seen.job).toEqual({ repository: 'acme/api', run_id: 7001, run_attempt: 1, job_id: jobId, conclusion: null });
      const list = await request(t.server).get(RUNNERS).auth(alice, { type: 'bearer' }).expect(200);
      expect(list.body.runners.find((listed: RunnerBody) => listed.runner_name === 'wh-start').job).toEqual(seen.job);
      // An observation, like the sync's: no audit event.
      expect((await auditOf(runner.runner_id)).map((row) => row.action)).toEqual(['provision_jit', 'provision_jit']);
    });

    it("completed marks the ephemeral runner deleted and records the job's conclusion", async () => {
      const runner = await provision('wh-finish');
      const jobId = nextJobId++;
      await deliver('in_progress', { ...onRunner(runner), runId: 7002, jobId });
      const result = await deliver('completed', { ...onRunner(runner), runId: 7002, jobId, conclusion: 'success' });

      expect(result.outcome).toBe('runner_deleted');
      const seen = await getRunner(runner.runner_id);
      expect(seen).toMatchObject({ status: 'deleted', busy: false, deletion_reason: 'gone_from_github' });
      expect(seen.job).toEqual({ repository: 'acme/api', run_id: 7002, run_attempt: 1, job_id: jobId, conclusion: 'success' });
      const deletion = (await auditOf(runner.runner_id)).find((row) => row.action === 'webhook');
      expect(deletion).toMatchObject({
        outcome: 'succeeded',
        actor: 'system:github-webhook',
        details: { from: 'active', to: 'deleted', job: { job_id: jobId, conclusion: 'success' } },
      });
    });

    it('shows job null for a runner no event has named', async () => {
      expect((await provision('wh-quiet')).job).toBeNull();
    });
  });

  describe('events out of order, twice, or never', () => {
    it('completed before in_progress, and then completed again: the runner ends deleted with the conclusion, never active', async () => {
      const runner = await provision('wh-out-of-order');
      const jobId = nextJobId++;
      const job = { ...onRunner(runner), runId: 7003, jobId };

      expect((await deliver('completed', { ...job, conclusion: 'failure' }, 'ooo-completed')).outcome).toBe('runner_deleted');
      expect((await deliver('in_progress', job, 'ooo-in-progress')).outcome).toBe('stale');
      expect((await deliver('completed', { ...job, conclusion: 'failure' }, 'ooo-completed')).outcome).toBe('duplicate');

      const seen = await getRunner(runner.runner_id);
      expect(seen).toMatchObject({ status: 'deleted', busy: false });
      expect(seen.job).toMatchObject({ job_id: jobId, conclusion: 'failure' });
      expect((await auditOf(runner.runner_id)).filter((row) => row.action === 'webhook')).toHaveLength(1);
    });

    it('acts once on two copies of one delivery that arrive at the same moment', async () => {
      const runner = await provision('wh-twice-at-once');
      const payload = workflowJobPayload('completed', {
        ...onRunner(runner),
        org: t.simulator.org,
        repository: 'acme/api',
        runId: 7010,
        runAttempt: 1,
        jobId: nextJobId++,
        conclusion: 'success',
      });
      const delivery = await signedDelivery(SECRET, 'workflow_job', payload);
      const answers = await Promise.all(
        [1, 2].map(() => request(t.server).post('/api/v1/webhooks/github').set(delivery.headers).send(delivery.body)),
      );

      expect(answers.map((answer) => answer.body.outcome).sort()).toEqual(['duplicate', 'runner_deleted']);
      expect((await auditOf(runner.runner_id)).filter((row) => row.action === 'webhook')).toHaveLength(1);
    });

    it("an older job's events never overwrite a newer job's", async () => {
      // A registration-token runner can take many jobs; here its row stands for such a runner.
      const runner = await provision('wh-two-jobs');
      await t.dataSource.query(`UPDATE runners SET kind = 'registration_token' WHERE id = $1`, [runner.runner_id]);
      const [first, second] = [nextJobId++, nextJobId++];
      await deliver('in_progress', { ...onRunner(runner), runId: 7004, jobId: second });
      expect((await deliver('completed', { ...onRunner(runner), runId: 7004, jobId: first, conclusion: 'success' })).outcome).toBe('stale');

      const seen = await getRunner(runner.runner_id);
      expect(seen).toMatchObject({ status: 'active', busy: true, job: { job_id: second, conclusion: null } });
    });

    it('the sync has the last word on status when events are missing', async () => {
      const runner = await provision('wh-sync-wins');
      await deliver('in_progress', { ...onRunner(runner), runId: 7005, jobId: nextJobId++ });
      // The completed event never comes; GitHub shows the runner offline and idle.
      t.simulator.setRunnerStatus(runner.github_runner_id, { status: 'offline', busy: false });
      await t.app.get(GithubSyncService).syncWithGithub(Actor.system('scheduler'));

      expect(await getRunner(runner.runner_id)).toMatchObject({ status: 'offline', busy: false });
    });
  });

  describe('bind_to_run enforcement', () => {
    it("a bound runner taking its own run's job is simply started", async () => {
      const { runner, token } = await provisionBound(8001);
      const result = await deliver('in_progress', { ...onRunner(runner), runId: 8001, runAttempt: 1, jobId: nextJobId++ });

      expect(result).toEqual(expect.objectContaining({ outcome: 'runner_started' }));
      expect(result.runner_removal).toBeUndefined();
      expect((await auditOf(runner.runner_id)).map((row) => row.action)).not.toContain('runner_hijack');
      expect((await getRunner(runner.runner_id, token)).status).toBe('active');
    });

    it("a bound runner that takes another run's job is reported, and removed once GitHub lets it go", async () => {
      const { runner, token } = await provisionBound(8002);
      // The runner is online and running the job on GitHub, so GitHub refuses to remove it for now.
      t.simulator.setRunnerStatus(runner.github_runner_id, { status: 'online', busy: true });
      const deletesBefore = t.simulator.requestCount('DELETE', new RegExp(`/runners/${runner.github_runner_id}$`));
      const jobId = nextJobId++;
      const job = { ...onRunner(runner), runId: 9999, runAttempt: 1, jobId, repository: 'acme/other' };

      const started = await deliver('in_progress', job);
      expect(started).toMatchObject({ outcome: 'runner_hijack', runner_removal: 'busy' });
      expect(t.simulator.requestCount('DELETE', new RegExp(`/runners/${runner.github_runner_id}$`)) - deletesBefore).toBe(1);
      const hijack = (await auditOf(runner.runner_id)).filter((row) => row.action === 'runner_hijack');
      expect(hijack).toEqual([
        expect.objectContaining({
          outcome: 'denied',
          actor: 'system:github-webhook',
          details: expect.objectContaining({
            bound_run: { run_id: 8002, run_attempt: 1 },
            job: expect.objectContaining({ repository: 'acme/other', run_id: 9999, run_attempt: 1, job_id: jobId }),
            policy_rule: 'per-run',
          }),
        }),
      ]);
      expect(await getRunner(runner.runner_id, token)).toMatchObject({ status: 'active', busy: true, job: { run_id: 9999 } });
      expect(t.logs.some((line) => line.includes('runner_hijack') && line.includes(runner.runner_name))).toBe(true);

      // GitHub sends the same news again (another delivery of the same job): reported once.
      await deliver('in_progress', job);
      expect((await auditOf(runner.runner_id)).filter((row) => row.action === 'runner_hijack')).toHaveLength(1);

      // The job ends; GitHub removes the ephemeral runner, and the service records the removal.
      t.simulator.completeJob(runner.github_runner_id);
      const finished = await deliver('completed', { ...job, conclusion: 'success' });
      expect(finished).toMatchObject({ outcome: 'runner_finished', runner_removal: 'deleted' });
      expect(await getRunner(runner.runner_id, token)).toMatchObject({ status: 'deleted', job: { run_id: 9999, conclusion: 'success' } });
      const deletion = (await auditOf(runner.runner_id)).filter((row) => row.action === 'delete' && row.outcome === 'succeeded');
      expect(deletion).toEqual([expect.objectContaining({ details: expect.objectContaining({ removal_reason: 'runner_hijack', github: 'already-gone' }) })]);
    });

    it('a hijacked runner whose completed event never comes is removed by the cleanup once it is idle', async () => {
      const { runner, token } = await provisionBound(8003);
      t.simulator.setRunnerStatus(runner.github_runner_id, { status: 'online', busy: true });
      expect((await deliver('in_progress', { ...onRunner(runner), runId: 8004, jobId: nextJobId++ })).runner_removal).toBe('busy');

      const cleanup = t.app.get(StaleCleanupService);
      const whileBusy = await cleanup.cleanupStaleRunners(Actor.system('scheduler'), { hours: 24, dryRun: false });
      expect(whileBusy.marked_for_removal?.busy.map((entry) => entry.runner_name)).toEqual([runner.runner_name]);
      expect((await getRunner(runner.runner_id, token)).status).toBe('active');

      t.simulator.setRunnerStatus(runner.github_runner_id, { busy: false });
      const onceIdle = await cleanup.cleanupStaleRunners(Actor.system('scheduler'), { hours: 24, dryRun: false });
      expect(onceIdle.marked_for_removal?.removed).toEqual([expect.objectContaining({ runner_name: runner.runner_name, github: 'deleted' })]);
      expect(t.simulator.runners().some((onGithub) => onGithub.id === runner.github_runner_id)).toBe(false);
      expect((await getRunner(runner.runner_id, token)).status).toBe('deleted');
    });

    it('a hijack seen only in the completed event (in_progress never came) is reported, and the runner removed', async () => {
      const { runner, token } = await provisionBound(8005);
      const result = await deliver('completed', { ...onRunner(runner), runId: 8006, jobId: nextJobId++, conclusion: 'success' });

      // GitHub still holds the idle runner here, so it is removed now.
      expect(result).toMatchObject({ outcome: 'runner_hijack', runner_removal: 'deleted' });
      expect((await auditOf(runner.runner_id)).map((row) => row.action)).toEqual(
        expect.arrayContaining(['runner_hijack', 'delete']),
      );
      expect((await getRunner(runner.runner_id, token)).status).toBe('deleted');
    });
  });

  describe('runners and jobs that are not ours', () => {
    it('counts a job queued for labels no runner of ours has; not one a runner has, nor one for GitHub-hosted runners', async () => {
      await provision('wh-gpu', ['gpu']);
      const unmatched = async () => {
        const counted = await t.app.get(Metrics).webhookDeliveries.get();
        return counted.values.find((value) => value.labels.outcome === 'queued_unmatched')?.value ?? 0;
      };
      const before = await unmatched();
      const queued = (labels: string[]) => deliver('queued', { runnerId: null, runnerName: null, labels, jobId: nextJobId++ });

      expect((await queued(['self-hosted', 'GPU'])).outcome).toBe('queued_matched');
      expect((await queued(['self-hosted', 'fpga'])).outcome).toBe('queued_unmatched');
      expect((await queued(['run-424242-1'])).outcome).toBe('queued_unmatched');
      expect((await queued(['ubuntu-latest'])).outcome).toBe('queued_elsewhere');
      expect((await unmatched()) - before).toBe(2);
    });

    it('reports a self-hosted runner this service did not create with the foreign runners, once: an audit event and a warning that name it', async () => {
      const [foreign] = t.simulator.addRunners(1, { namePrefix: 'someone-elses', status: 'online', busy: true });
      const job = { runnerId: foreign.id, runnerName: foreign.name, runnerGroupName: 'Default' };
      expect((await deliver('in_progress', { ...job, jobId: nextJobId++ })).outcome).toBe('foreign_runner');
      expect((await deliver('in_progress', { ...job, jobId: nextJobId++ })).outcome).toBe('foreign_runner');

      const warnings = t.logs.filter((line) => line.includes('"level":40') && line.includes(foreign.name));
      expect(warnings).toHaveLength(1);
      const events: { runner_name: string; details: Record<string, unknown> }[] = await t.dataSource.query(
        `SELECT runner_name, details FROM audit_events WHERE action = 'foreign_runner' AND runner_name = $1`,
        [foreign.name],
      );
      expect(events).toHaveLength(1);
      expect(events[0].details).toMatchObject({ github_runner_id: foreign.id, name: foreign.name });
      const [listed]: { name: string; gone_at: Date | null }[] = await t.dataSource.query(
        `SELECT name, gone_at FROM foreign_runners WHERE github_runner_id = $1`,
        [foreign.id],
      );
      expect(listed).toEqual({ name: foreign.name, gone_at: null });
    });

    it("leaves GitHub-hosted runners, other organizations' events and registration-token runners the sync has not matched alone", async () => {
      const hosted = await deliver('in_progress', { runnerId: 990_000_005, runnerName: 'GitHub Actions 5', runnerGroupName: 'GitHub Actions', jobId: nextJobId++ });
      expect(hosted.outcome).toBe('hosted_runner');

      const runner = await provision('wh-other-org');
      const elsewhere = await deliver('in_progress', { ...onRunner(runner), org: 'another-org', jobId: nextJobId++ });
      expect(elsewhere.outcome).toBe('other_owner');
      expect(await getRunner(runner.runner_id)).toMatchObject({ status: 'pending', job: null });

      await request(t.server).post(`${RUNNERS}/provision`).auth(alice, { type: 'bearer' }).send({ runner_name: 'wh-registered', labels: ['webhooks'] }).expect(201);
      const unadopted = await deliver('in_progress', { runnerId: 987_654, runnerName: 'wh-registered', jobId: nextJobId++ });
      expect(unadopted.outcome).toBe('unadopted_runner');
      expect(await getRunner('wh-registered')).toMatchObject({ status: 'pending', job: null });
    });
  });
});
