import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLUSTER_ISS, corpClaims, CORP_ISS, GITHUB_ISS, githubClaims, kubernetesClaims, policyFrom, SETTINGS } from '../../test/support/policy-fixtures.js';
import { decideProvision, matchRule } from './policy.evaluator.js';
import type { PolicyCaller, ProvisionKind } from './policy.types.js';

/** docs/policy.md's worked example is a real policy, and decides what its table says. */
const docs = readFileSync(fileURLToPath(new URL('../../docs/policy.md', import.meta.url)), 'utf8');
const example = /## Worked example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? '';

describe('the worked example of docs/policy.md', () => {
  const policy = policyFrom(example);
  const github = (overrides: Record<string, unknown> = {}): PolicyCaller => ({ issuer: GITHUB_ISS, claims: githubClaims(overrides) });
  const ciJob = (overrides: Record<string, unknown> = {}) =>
    github({ job_workflow_ref: 'my-org/api/.github/workflows/ci.yml@refs/heads/main', ...overrides });
  const pods: PolicyCaller = { issuer: CLUSTER_ISS, claims: kubernetesClaims() };

  it.each<[string, PolicyCaller, ProvisionKind, string[], Record<string, unknown>]>([
    ["a CI job of my-org/api on main, asking for gpu", ciJob(), 'jit', ['gpu'], { allowed: true, rule: 'ci-main-repos', labels: ['self-hosted', 'linux', 'x64', 'ci', 'gpu'], runnerGroupId: 3 }],
    ['the same job, asking for production-deploy', ciJob(), 'jit', ['production-deploy'], { allowed: false, code: 'LABEL_NOT_ALLOWED' }],
    ['the same job, asking for a registration token', ciJob(), 'registration_token', ['gpu'], { allowed: false, code: 'REGISTRATION_TOKENS_NOT_ALLOWED' }],
    ['the same job on a feature branch', ciJob({ ref: 'refs/heads/feature-x' }), 'jit', ['gpu'], { allowed: false, code: 'POLICY_NO_MATCH' }],
    ['the build workflow, run 987 attempt 1', github({ run_id: '987', run_attempt: '1' }), 'jit', [], { allowed: true, rule: 'per-run-builds', labels: ['run-987-1'], runnerGroupId: 3 }],
    ['the build workflow, asking for labels', github(), 'jit', ['gpu'], { allowed: false, code: 'VALIDATION_FAILED', field: 'labels' }],
    ['a job of another organization', github({ repository_owner: 'other', repository_owner_id: '42', repository: 'other/api' }), 'jit', ['gpu'], { allowed: false, code: 'POLICY_NO_MATCH' }],
    ["team A's launcher", pods, 'jit', ['team-a-build'], { allowed: true, rule: 'team-a-pods', runnerGroupId: 4 }],
  ])('%s', (_name, caller, kind, labels, expected) => {
    expect(decideProvision(policy, caller, { kind, labels }, SETTINGS)).toMatchObject(expected);
  });

  it('makes alice of platform-admins an admin', () => {
    const match = matchRule(policy, { issuer: CORP_ISS, claims: corpClaims() });
    expect(match).toMatchObject({ matched: true, rule: { name: 'platform-admins', grant: { admin: true } } });
  });
});
