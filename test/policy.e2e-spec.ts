/**
 * The access policy end to end: three local issuers shaped like the real ones (GitHub Actions,
 * a Kubernetes cluster, a corporate IdP), each with its own key pair and JWKS over HTTP, and a policy
 * file that grants each of them something different.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import {
  corporateClaims,
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  kubernetesClaims,
  TestOidcProvider,
} from './support/oidc.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';

const JIT_PATH = '/api/v1/runners/jit';
const PROVISION_PATH = '/api/v1/runners/provision';
const CLUSTER_ISSUER = 'https://kubernetes.default.svc';

interface AuditRow {
  action: string;
  outcome: string;
  actor: string;
  runner_name: string | null;
  details: Record<string, unknown>;
}

function policyYaml(issuers: { actions: TestOidcProvider; cluster: TestOidcProvider; corp: TestOidcProvider }): string {
  return `
issuers:
  - name: github-actions
    issuer: ${GITHUB_ACTIONS_ISSUER}
    jwks_url: ${issuers.actions.jwksUrl}
    audience: runner-token-service
  - name: cluster-a
    issuer: ${CLUSTER_ISSUER}
    jwks_url: ${issuers.cluster.jwksUrl}
    audience: runner-token-service
  - name: corp
    issuer: ${issuers.corp.issuer}
    jwks_url: ${issuers.corp.jwksUrl}
    audience: runner-token-service
    display_claim: email
rules:
  - name: per-run-builds
    issuer: github-actions
    claims:
      repository_owner_id: "1000001"
      job_workflow_ref: { pattern: "acme/ci/\\\\.github/workflows/build\\\\.yml@refs/heads/main" }
    grant: { bind_to_run: true, max_runners_per_identity: 2 }
  - name: ci-main-repos
    issuer: github-actions
    claims:
      repository_owner: acme
      repository: { pattern: "acme/(api|web)" }
      ref: [refs/heads/main, refs/heads/release]
    grant:
      labels:
        required: [ci]
        allowed: [{ pattern: "gpu|large" }, arm64]
      runner_groups: [1, 2]
      max_runners: 7
      max_runners_per_identity: 2
  - name: team-a-pods
    issuer: cluster-a
    claims:
      kubernetes.io.namespace: team-a
      kubernetes.io.serviceaccount.name: runner-launcher
    grant:
      labels: { allowed: [{ pattern: "team-a-.*" }] }
      max_runners_per_identity: 10
      registration_tokens: true
  - name: platform-admins
    issuer: corp
    claims: { groups: { contains: platform-admins }, email_verified: true }
    grant: { admin: true }
`;
}

describe('Access policy (e2e)', () => {
  let t: TestApp;
  let actions: TestOidcProvider;
  let cluster: TestOidcProvider;
  let corp: TestOidcProvider;
  let policy: PolicyFile;

  beforeAll(async () => {
    [actions, cluster, corp] = await Promise.all([
      TestOidcProvider.start({ issuer: GITHUB_ACTIONS_ISSUER }),
      TestOidcProvider.start({ issuer: CLUSTER_ISSUER }),
      TestOidcProvider.start(),
    ]);
    policy = writePolicyFile(policyYaml({ actions, cluster, corp }));
    t = await startTestApp({ policyFile: policy.path });
    t.simulator.addRunnerGroup('builds');
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([actions?.stop(), cluster?.stop(), corp?.stop()]);
    policy?.remove();
  });

  const ciToken = (options: Parameters<typeof githubActionsClaims>[0] = {}) =>
    actions.token(githubActionsClaims({ owner: 'acme', repo: 'api', ...options }));
  const jit = (token: string, body: object) => request(t.server).post(JIT_PATH).auth(token, { type: 'bearer' }).send(body);
  const labelsOnGithub = (name: string) => t.simulator.findRunnerByName(name)?.labels.map((label) => label.name);
  const auditOf = async (name: string): Promise<AuditRow[]> =>
    t.dataSource.query(`SELECT * FROM audit_events WHERE runner_name = $1 ORDER BY occurred_at, id`, [name]);

  describe('GitHub Actions tokens', () => {
    it('registers the granted labels: system labels first, the requested ones, and the required ones', async () => {
      const response = await jit(await ciToken({ run_id: 11 }), { runner_name: 'ci-gpu-1', labels: ['GPU'] }).expect(201);

      expect(response.body.labels.slice(0, 3)).toEqual(['self-hosted', 'linux', 'x64']);
      expect([...response.body.labels].sort()).toEqual(['ci', 'gpu', 'linux', 'self-hosted', 'x64']);
      expect(labelsOnGithub('ci-gpu-1')?.sort()).toEqual(['ci', 'gpu', 'linux', 'self-hosted', 'x64']);
    });

    it.each([
      ['a label the rule does not allow', ['production-deploy'], 'production-deploy'],
      ['a label that only contains an allowed alternative', ['xgpu'], 'xgpu'],
      ['a label that merely starts with self-hosted', ['self-hosted-prod'], 'self-hosted-prod'],
    ])('refuses %s with LABEL_NOT_ALLOWED naming it, and asks GitHub nothing', async (_case, labels, named) => {
      const before = t.simulator.requestCount('POST', /generate-jitconfig$/);
      const response = await jit(await ciToken(), { runner_name_prefix: 'ci-refused', labels }).expect(403);

      expect(response.body.error.code).toBe('LABEL_NOT_ALLOWED');
      expect(response.body.error.message).toContain(named);
      expect(response.body.error.message).toContain('ci-main-repos');
      expect(t.simulator.requestCount('POST', /generate-jitconfig$/)).toBe(before);
    });

    it('places the runner in a granted group, and refuses one outside runner_groups', async () => {
      const granted = await jit(await ciToken({ run_id: 12 }), { runner_name: 'ci-group-2', runner_group_id: 2 }).expect(201);
      expect(granted.body.runner_name).toBe('ci-group-2');
      expect(t.simulator.findRunnerByName('ci-group-2')?.runner_group_id).toBe(2);

      const refused = await jit(await ciToken(), { runner_name: 'ci-group-5', runner_group_id: 5 }).expect(403);
      expect(refused.body.error.code).toBe('RUNNER_GROUP_NOT_ALLOWED');
    });

    it('refuses a repository, ref or owner no rule names with POLICY_NO_MATCH, naming the claims but not their values', async () => {
      for (const token of [
        await ciToken({ repo: 'secrets-vault' }),
        await ciToken({ ref: 'refs/heads/feature-x' }),
        await actions.token(githubActionsClaims({ owner: 'acme-evil', repo: 'api', repository_owner_id: '666' })),
      ]) {
        const response = await jit(token, { runner_name_prefix: 'nomatch', labels: ['gpu'] }).expect(403);
        expect(response.body.error.code).toBe('POLICY_NO_MATCH');
        expect(response.body.error.message).toContain('repository');
        expect(response.body.error.message).not.toMatch(/secrets-vault|feature-x|acme-evil/);
      }
    });

    it('refuses registration tokens unless the rule grants them', async () => {
      const response = await request(t.server)
        .post(PROVISION_PATH)
        .auth(await ciToken(), { type: 'bearer' })
        .send({ runner_name: 'ci-legacy', labels: ['gpu'] })
        .expect(403);
      expect(response.body.error.code).toBe('REGISTRATION_TOKENS_NOT_ALLOWED');
      expect(t.simulator.requestCount('POST', /registration-token$/)).toBe(0);
    });

    it('gives a bind_to_run runner exactly one label, run-<run_id>-<run_attempt>, and refuses requested labels', async () => {
      const token = await actions.token(
        githubActionsClaims({ owner: 'acme', repo: 'ci', workflow_file: 'build.yml', run_id: 987654, run_attempt: 2 }),
      );
      const response = await jit(token, { runner_name_prefix: 'bound' }).expect(201);
      expect(response.body.labels).toEqual(['run-987654-2']);
      expect(labelsOnGithub(response.body.runner_name)).toEqual(['run-987654-2']);

      const withLabels = await jit(token, { runner_name_prefix: 'bound', labels: ['gpu'] }).expect(400);
      expect(withLabels.body.error.code).toBe('VALIDATION_FAILED');
      expect(withLabels.body.error.message).toMatch(/binds the runner to your workflow run.*run-987654-2/);
    });

    it('records the rule and the claims that decided, for allowed and refused requests', async () => {
      await jit(await ciToken({ ref: 'refs/heads/release' }), { runner_name: 'ci-audited', labels: ['large'] }).expect(201);
      await jit(await ciToken(), { runner_name: 'ci-audited-refused', labels: ['prod'] }).expect(403);

      const allowed = await auditOf('ci-audited');
      expect(allowed.map((row) => row.outcome)).toEqual(['attempted', 'succeeded']);
      expect(allowed[1].details).toMatchObject({
        policy_rule: 'ci-main-repos',
        policy_claims: { repository_owner: 'acme', repository: 'acme/api', ref: 'refs/heads/release' },
      });
      const refused = await auditOf('ci-audited-refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ outcome: 'denied', details: expect.objectContaining({ policy_rule: 'ci-main-repos', error_code: 'LABEL_NOT_ALLOWED' }) });
    });
  });

  describe('quotas', () => {
    it('refuses a runner past max_runners_per_identity, giving the limit, the count and which limit', async () => {
      const token = await ciToken({ repo: 'web', run_id: 21 });
      await jit(token, { runner_name_prefix: 'quota-me' }).expect(201);
      await jit(token, { runner_name_prefix: 'quota-me' }).expect(201);
      const refused = await jit(token, { runner_name_prefix: 'quota-me' }).expect(403);

      expect(refused.body.error.code).toBe('QUOTA_EXCEEDED');
      expect(refused.body.error.message).toMatch(/max_runners_per_identity/);
      expect(refused.body.error.message).toMatch(/\b2\b/);
      expect(refused.body.error.details).toMatchObject({ limit: 'max_runners_per_identity', max: 2, current: 2 });
    });

    it('frees a place when a runner is deleted', async () => {
      const token = await ciToken({ repo: 'web', ref: 'refs/heads/release', run_id: 22 });
      const first = await jit(token, { runner_name_prefix: 'quota-free' }).expect(201);
      await jit(token, { runner_name_prefix: 'quota-free' }).expect(201);
      await jit(token, { runner_name_prefix: 'quota-free' }).expect(403);

      await request(t.server).delete(`/api/v1/runners/${first.body.runner_id}`).auth(token, { type: 'bearer' }).expect(200);
      await jit(token, { runner_name_prefix: 'quota-free' }).expect(201);
    });

    it('refuses a runner past max_runners, which counts everyone the rule matched together', async () => {
      // Seven live runners of this rule exist by now, held by four identities of two each at most.
      const newcomer = await ciToken({ environment: 'staging' });
      const refused = await jit(newcomer, { runner_name_prefix: 'quota-rule' }).expect(403);

      expect(refused.body.error.code).toBe('QUOTA_EXCEEDED');
      expect(refused.body.error.details).toMatchObject({ limit: 'max_runners', max: 7, current: 7, rule: 'ci-main-repos' });
      expect(refused.body.error.message).toMatch(/max_runners\b.*7/);
    });
  });

  describe('Kubernetes service-account tokens', () => {
    const podToken = (namespace: string, account: string) => cluster.token(kubernetesClaims(namespace, account));

    it("grants the namespace's own labels, and registration tokens with the group's name for config.sh", async () => {
      const token = await podToken('team-a', 'runner-launcher');
      const response = await jit(token, { runner_name_prefix: 'team-a', labels: ['team-a-docker'] }).expect(201);
      expect(response.body.labels).toEqual(['self-hosted', 'linux', 'x64', 'team-a-docker']);

      const legacy = await request(t.server)
        .post(PROVISION_PATH)
        .auth(token, { type: 'bearer' })
        .send({ runner_name: 'team-a-legacy', labels: ['team-a-build'] })
        .expect(201);
      expect(legacy.body.configuration_command).toContain(' --runnergroup Default');
    });

    it('refuses another namespace or service account', async () => {
      for (const token of [await podToken('team-b', 'runner-launcher'), await podToken('team-a', 'default')]) {
        const response = await jit(token, { runner_name_prefix: 'team-b', labels: ['team-a-docker'] }).expect(403);
        expect(response.body.error.code).toBe('POLICY_NO_MATCH');
      }
    });
  });

  describe('GET /me', () => {
    it('shows the identity, the rule, the grant and the usage', async () => {
      const token = await cluster.token(kubernetesClaims('team-a', 'runner-launcher'));
      const me = (await request(t.server).get('/api/v1/me').auth(token, { type: 'bearer' }).expect(200)).body;

      expect(me).toMatchObject({
        identity: { issuer: CLUSTER_ISSUER, subject: 'system:serviceaccount:team-a:runner-launcher', issuer_name: 'cluster-a' },
        policy: 'file',
        rule: 'team-a-pods',
        grant: {
          labels: { required: [], allowed: [{ pattern: 'team-a-.*' }] },
          runner_groups: [1],
          max_runners: null,
          max_runners_per_identity: 10,
          registration_tokens: true,
          admin: false,
          bind_to_run: false,
        },
        suspended: false,
      });
      expect(me.usage.runners).toBeGreaterThanOrEqual(2);
    });

    it('answers a caller no rule matches with the claims that were considered', async () => {
      const token = await ciToken({ repo: 'elsewhere' });
      const me = (await request(t.server).get('/api/v1/me').auth(token, { type: 'bearer' }).expect(200)).body;
      expect(me).toMatchObject({ policy: 'file', rule: null, grant: null });
      expect(me.considered_claims).toEqual(expect.arrayContaining(['repository_owner', 'repository']));
      expect(JSON.stringify(me.considered_claims)).not.toContain('elsewhere');
    });
  });

  describe('corporate IdP', () => {
    it('opens the admin API to a verified member of the admin group only', async () => {
      const admin = await corp.token(corporateClaims({ email: 'ada@example.com', groups: ['platform-admins'], email_verified: true }));
      const unverified = await corp.token(
        corporateClaims({ email: 'eve@example.com', groups: ['platform-admins'], email_verified: false }),
      );
      const member = await corp.token(corporateClaims({ email: 'bob@example.com', groups: ['developers'], email_verified: true }));

      await request(t.server).get('/api/v1/admin/runners').auth(admin, { type: 'bearer' }).expect(200);
      for (const token of [unverified, member, await ciToken()]) {
        const refused = await request(t.server).get('/api/v1/admin/runners').auth(token, { type: 'bearer' }).expect(403);
        expect(refused.body.error.code).toBe('FORBIDDEN');
      }
      const me = (await request(t.server).get('/api/v1/me').auth(admin, { type: 'bearer' }).expect(200)).body;
      expect(me).toMatchObject({ identity: { name: 'ada@example.com' }, rule: 'platform-admins', grant: { admin: true } });
    });
  });

  describe('the kill switch', () => {
    const adminToken = () =>
      corp.token(corporateClaims({ email: 'ada@example.com', groups: ['platform-admins'], email_verified: true }));
    let adminBearer: string;
    beforeAll(async () => {
      adminBearer = await adminToken();
    });
    const admin = (path: string, body: object) =>
      request(t.server).post(`/api/v1/admin/identities/${path}`).auth(adminBearer, { type: 'bearer' }).send(body);

    it("suspends an identity: its idle runners leave GitHub, and it is refused everywhere but /me until resumed", async () => {
      const pod = await cluster.token(kubernetesClaims('team-a', 'runner-launcher'));
      const running = await jit(pod, { runner_name_prefix: 'team-a-kill', labels: ['team-a-x'] }).expect(201);
      const subject = 'system:serviceaccount:team-a:runner-launcher';

      const suspended = await admin('suspend', { issuer: CLUSTER_ISSUER, subject, remove_runners: true }).expect(200);
      expect(suspended.body.runner_removal.removed.map((entry: { runner_name: string }) => entry.runner_name)).toContain(
        running.body.runner_name,
      );
      expect(t.simulator.findRunnerByName(running.body.runner_name)).toBeUndefined();

      const refused = await jit(pod, { runner_name_prefix: 'team-a-kill', labels: ['team-a-x'] }).expect(403);
      expect(refused.body.error.code).toBe('IDENTITY_SUSPENDED');
      const listing = await request(t.server).get('/api/v1/runners').auth(pod, { type: 'bearer' }).expect(403);
      expect(listing.body.error.code).toBe('IDENTITY_SUSPENDED');
      const me = await request(t.server).get('/api/v1/me').auth(pod, { type: 'bearer' }).expect(200);
      expect(me.body.suspended).toBe(true);

      await admin('resume', { issuer: CLUSTER_ISSUER, subject }).expect(200);
      await jit(pod, { runner_name_prefix: 'team-a-kill', labels: ['team-a-x'] }).expect(201);
    });

    it('suspends everyone a rule matched', async () => {
      await admin('suspend', { rule: 'ci-main-repos' }).expect(200);
      const refused = await jit(await ciToken({ repo: 'api', ref: 'refs/heads/release' }), { runner_name_prefix: 'rule-off' }).expect(403);
      expect(refused.body.error.code).toBe('IDENTITY_SUSPENDED');
      expect(refused.body.error.message).toContain('ci-main-repos');
      // Another rule's callers are not affected.
      await jit(await cluster.token(kubernetesClaims('team-a', 'runner-launcher')), { runner_name_prefix: 'team-a-on' }).expect(201);
      await admin('resume', { rule: 'ci-main-repos' }).expect(200);
    });
  });
});
