import {
  CLUSTER_ISS,
  corpClaims,
  CORP_ISS,
  EXAMPLE_POLICY_YAML,
  GITHUB_ISS,
  githubClaims,
  kubernetesClaims,
  policyFrom,
  SETTINGS,
} from '../../test/support/policy-fixtures.js';
import { decideProvision, matchRule } from './policy.evaluator.js';
import type { Policy, PolicyCaller, ProvisionAsk } from './policy.types.js';

const ISS = 'https://issuer.example';

/** A policy of one issuer and one rule with these claim conditions (YAML, indented for `claims:`). */
function oneRule(conditions: string): Policy {
  return policyFrom(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules:
  - name: the-rule
    issuer: idp
    claims:
${conditions.replace(/^/gm, '      ')}
    grant: {}
`);
}

const caller = (claims: Record<string, unknown>, issuer = ISS): PolicyCaller => ({ issuer, claims });
const k8sNamespaced = kubernetesClaims()['kubernetes.io'] as Record<string, unknown>;

describe('matchRule: claim conditions', () => {
  it.each([
    // exact
    ['exact string', 'sub: alice', { sub: 'alice' }, true],
    ['exact string, another value', 'sub: alice', { sub: 'alicex' }, false],
    ['exact is case-sensitive', 'sub: Alice', { sub: 'alice' }, false],
    ['exact, claim missing', 'sub: alice', { name: 'alice' }, false],
    // list: any of these, exact
    ['list, one of them', 'ref: [refs/heads/main, refs/heads/release]', { ref: 'refs/heads/release' }, true],
    ['list, none of them', 'ref: [refs/heads/main, refs/heads/release]', { ref: 'refs/heads/dev' }, false],
    ['list items are exact, not prefixes', 'ref: [refs/heads/main]', { ref: 'refs/heads/main-old' }, false],
    ['list with a pattern item', 'ref: [refs/heads/main, { pattern: "refs/tags/v[0-9.]+" }]', { ref: 'refs/tags/v1.2' }, true],
    // pattern: the whole value
    ['pattern, whole value', 'repository: { pattern: "my-org/(api|web)" }', { repository: 'my-org/web' }, true],
    ['pattern does not match a longer value', 'repository: { pattern: "my-org/(api|web)" }', { repository: 'my-org/webhooks' }, false],
    ['pattern does not match with a prefix', 'repository: { pattern: "my-org/(api|web)" }', { repository: 'evil-my-org/api' }, false],
    // the alternation-anchoring trap: ^a|b$ would match "xa"... and "bx"
    ['alternation: a|b matches a', 'sub: { pattern: "a|b" }', { sub: 'a' }, true],
    ['alternation: a|b matches b', 'sub: { pattern: "a|b" }', { sub: 'b' }, true],
    ['alternation: a|b does not match xa', 'sub: { pattern: "a|b" }', { sub: 'xa' }, false],
    ['alternation: a|b does not match bx', 'sub: { pattern: "a|b" }', { sub: 'bx' }, false],
    ['pattern on a number claim reads its JSON text', 'run_number: { pattern: "4[0-9]" }', { run_number: 42 }, true],
    ['pattern never matches an array claim', 'groups: { pattern: "admins" }', { groups: ['admins'] }, false],
    // nested claims: dotted paths
    ['dotted path into the Kubernetes shape', 'kubernetes.io.namespace: team-a', { 'kubernetes.io': k8sNamespaced }, true],
    ['dotted path, deeper', 'kubernetes.io.serviceaccount.name: runner-launcher', { 'kubernetes.io': k8sNamespaced }, true],
    ['dotted path, another namespace', 'kubernetes.io.namespace: team-a', { 'kubernetes.io': { namespace: 'team-b' } }, false],
    ['dotted path to a flat claim with dots in its name', 'kubernetes.io.namespace: team-a', { 'kubernetes.io.namespace': 'team-a' }, true],
    ['dotted path through plain nesting', 'kubernetes.io.namespace: team-a', { kubernetes: { io: { namespace: 'team-a' } } }, true],
    [
      'dotted path tries a shorter key when the longer one leads nowhere',
      'kubernetes.io.namespace: team-a',
      { 'kubernetes.io': { pod: {} }, kubernetes: { io: { namespace: 'team-a' } } },
      true,
    ],
    ['dotted path never reaches the prototype', 'constructor.name: Object', { sub: 'x' }, false],
    // array claims
    ['contains, in the array', 'groups: { contains: platform-admins }', { groups: ['developers', 'platform-admins'] }, true],
    ['contains, not in the array', 'groups: { contains: platform-admins }', { groups: ['developers'] }, false],
    ['contains needs an array claim', 'groups: { contains: platform-admins }', { groups: 'platform-admins' }, false],
    ['contains a pattern', 'groups: { contains: { pattern: "team-[a-z]" } }', { groups: ['staff', 'team-a'] }, true],
    ['an array claim never equals a single value (compared as JSON)', 'groups: platform-admins', { groups: ['platform-admins'] }, false],
    // boolean and numeric claims: compared as JSON
    ['boolean true', 'email_verified: true', { email_verified: true }, true],
    ['boolean true is not the string "true"', 'email_verified: true', { email_verified: 'true' }, false],
    ['boolean true is not false', 'email_verified: true', { email_verified: false }, false],
    ['number', 'tier: 5', { tier: 5 }, true],
    ['number is not its string', 'tier: 5', { tier: '5' }, false],
    ['a quoted id matches the string GitHub sends', 'repository_owner_id: "1234567"', { repository_owner_id: '1234567' }, true],
    ['a quoted id does not match a number', 'repository_owner_id: "1234567"', { repository_owner_id: 1234567 }, false],
    ['an unquoted id (a YAML number) does not match the string', 'repository_owner_id: 1234567', { repository_owner_id: '1234567' }, false],
    // email counts only when verified, if the token says
    ['email with email_verified true', 'email: alice@example.com', { email: 'alice@example.com', email_verified: true }, true],
    ['email with email_verified false', 'email: alice@example.com', { email: 'alice@example.com', email_verified: false }, false],
    ['email with email_verified "true" (a string)', 'email: alice@example.com', { email: 'alice@example.com', email_verified: 'true' }, false],
    ['email without email_verified', 'email: alice@example.com', { email: 'alice@example.com' }, true],
    ['every condition must hold', 'sub: alice\ntier: 5', { sub: 'alice', tier: 6 }, false],
  ] as const)('%s', (_name, conditions, claims, expected) => {
    expect(matchRule(oneRule(conditions), caller(claims)).matched).toBe(expected);
  });
});

describe('matchRule: which rule', () => {
  const policy = policyFrom(`
issuers:
  - { name: idp, issuer: ${ISS}, audience: rts }
  - { name: other, issuer: https://other.example, audience: rts }
rules:
  - { name: other-issuer, issuer: other, claims: { sub: alice }, grant: {} }
  - { name: first, issuer: idp, claims: { sub: alice }, grant: {} }
  - { name: second, issuer: idp, claims: { sub: { pattern: ".*" } }, grant: { admin: true } }
`);

  it('takes the first rule in order whose issuer and conditions match', () => {
    expect(matchRule(policy, caller({ sub: 'alice' }))).toEqual({ matched: true, rule: policy.rules![1], matchedClaims: { sub: 'alice' } });
    expect(matchRule(policy, caller({ sub: 'bob' }))).toMatchObject({ matched: true, rule: { name: 'second' } });
  });

  it("ignores the rules of other issuers, and prefers the issuer's name that authentication found", () => {
    expect(matchRule(policy, caller({ sub: 'alice' }, 'https://other.example'))).toMatchObject({ rule: { name: 'other-issuer' } });
    expect(matchRule(policy, { issuer: ISS, issuerName: 'other', claims: { sub: 'bob' } })).toMatchObject({ matched: false });
  });

  it('matches nobody of an issuer the policy does not know', () => {
    expect(matchRule(policy, caller({ sub: 'alice' }, 'https://unknown.example'))).toEqual({
      matched: false,
      considered: [],
      reasons: ["the token's issuer is not one of the policy's issuers"],
    });
  });

  it('without a policy file, matches everyone with no rule', () => {
    expect(matchRule({ ...policy, rules: null }, caller({}))).toEqual({ matched: true, rule: null, matchedClaims: {} });
  });

  it('without a match, names the claims considered and why each rule missed, never their values', () => {
    const example = policyFrom(EXAMPLE_POLICY_YAML);
    const outsider = githubClaims({ repository_owner: 'SECRET-OWNER', repository_owner_id: '999', repository: 'SECRET-OWNER/x' });
    const match = matchRule(example, caller(outsider, GITHUB_ISS));
    expect(match).toEqual({
      matched: false,
      considered: ['repository_owner_id', 'job_workflow_ref', 'run_id', 'run_attempt', 'repository_owner', 'ref', 'repository'],
      reasons: ['rule "per-run-builds": repository_owner_id does not match', 'rule "ci-main-repos": repository_owner does not match'],
    });
    expect(JSON.stringify(match)).not.toMatch(/SECRET|999/);
  });
});

describe('decideProvision', () => {
  const example = policyFrom(EXAMPLE_POLICY_YAML);
  const jit = (labels: string[], runnerGroupId?: number): ProvisionAsk => ({ kind: 'jit', labels, runnerGroupId });
  const github = (overrides: Record<string, unknown> = {}) => caller(githubClaims(overrides), GITHUB_ISS);
  // Not the per-run rule's workflow, so ci-main-repos decides.
  const ciJob = (overrides: Record<string, unknown> = {}) => github({ job_workflow_ref: 'my-org/api/.github/workflows/ci.yml@refs/heads/main', ...overrides });

  it('allows what the rule grants: system labels first, then required, then requested; the default group; the limits', () => {
    const decision = decideProvision(example, ciJob(), jit(['gpu', 'linux', 'gpu', 'arm64']), SETTINGS);
    expect(decision).toEqual({
      allowed: true,
      rule: 'ci-main-repos',
      labels: ['self-hosted', 'linux', 'x64', 'ci', 'gpu', 'arm64'],
      runnerGroupId: 3,
      limits: { maxRunners: 20, maxRunnersPerIdentity: 4 },
      matchedClaims: { repository_owner: 'my-org', repository: 'my-org/api', ref: 'refs/heads/main' },
      reasons: [
        'rule "ci-main-repos" of issuer "github-actions" matched on repository_owner, ref, repository',
        'system labels first: self-hosted, linux, x64',
        'required by the rule: ci',
        'label "gpu": allowed by pattern "gpu|large"',
        'label "arm64": allowed by "arm64"',
        "runner group 3: the rule's default",
        'limits: max_runners 20 (every identity of the rule together), max_runners_per_identity 4',
      ],
    });
  });

  it('allows another of the rule\'s groups when asked for', () => {
    expect(decideProvision(example, ciJob(), jit(['large'], 5), SETTINGS)).toMatchObject({ allowed: true, runnerGroupId: 5 });
  });

  it('binds a runner to the workflow run: exactly one label, run-<run_id>-<run_attempt>', () => {
    const decision = decideProvision(example, github({ run_attempt: '2' }), jit([]), SETTINGS);
    expect(decision).toMatchObject({
      allowed: true,
      rule: 'per-run-builds',
      labels: ['run-9876543210-2'],
      runnerGroupId: 3,
      limits: { maxRunners: null, maxRunnersPerIdentity: 2 },
      matchedClaims: { repository_owner_id: '1234567', run_id: '9876543210', run_attempt: '2' },
    });
  });

  it('a bound rule needs run_id and run_attempt: without them the token matches no rule of its own', () => {
    const withoutRun = github({ repository: 'my-org/tools', run_id: undefined });
    const decision = decideProvision(example, withoutRun, jit([]), SETTINGS);
    expect(decision).toMatchObject({ allowed: false, code: 'POLICY_NO_MATCH', rule: null });
    expect(decision.reasons).toContain(
      'rule "per-run-builds": bind_to_run needs the run_id and run_attempt claims of a GitHub Actions job; the token\'s run_id is missing or not a number',
    );
  });

  it('treats a label that merely starts like a system label as a user label', () => {
    expect(decideProvision(example, ciJob(), jit(['self-hosted-gpu']), SETTINGS)).toMatchObject({ allowed: false, code: 'LABEL_NOT_ALLOWED' });
    expect(decideProvision(example, ciJob(), jit(['self-hosted', 'x64']), SETTINGS)).toMatchObject({ allowed: true });
  });

  it.each(['xgpu', 'gpu-x', 'gpularge', 'arm'])('anchors label patterns: %s is not allowed by gpu|large', (label) => {
    expect(decideProvision(example, ciJob(), jit([label]), SETTINGS)).toMatchObject({ allowed: false, code: 'LABEL_NOT_ALLOWED' });
  });

  describe('refuses, with its own code and a message that names what refused', () => {
    const noGroupsPolicy = policyFrom(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules: [{ name: plain, issuer: idp, claims: { sub: alice }, grant: { labels: { allowed: [{ pattern: "l-[0-9]+" }] } } }]
`);
    const manyLabels = Array.from({ length: 98 }, (_, index) => `l-${index}`);
    const cases: Array<[string, Policy, PolicyCaller, ProvisionAsk, Record<string, unknown>, RegExp]> = [
      [
        'POLICY_NO_MATCH',
        example,
        github({ repository_owner: 'other-org', repository_owner_id: '42' }),
        jit(['gpu']),
        { code: 'POLICY_NO_MATCH', rule: null },
        /^No policy rule matches your token; the rules for it look at the claims repository_owner_id, job_workflow_ref, run_id, run_attempt, repository_owner, ref, repository$/,
      ],
      ['LABEL_NOT_ALLOWED', example, ciJob(), jit(['gpu', 'production-deploy']), { code: 'LABEL_NOT_ALLOWED', rule: 'ci-main-repos' }, /Label "production-deploy" is not allowed by rule "ci-main-repos"/],
      ['RUNNER_GROUP_NOT_ALLOWED', example, ciJob(), jit(['gpu'], 7), { code: 'RUNNER_GROUP_NOT_ALLOWED' }, /runner_group_id 7 is not allowed by rule "ci-main-repos", which allows runner groups 3, 5/],
      [
        'RUNNER_GROUP_NOT_ALLOWED without runner_groups: the configured group only',
        noGroupsPolicy,
        caller({ sub: 'alice' }),
        jit(['l-1'], 2),
        { code: 'RUNNER_GROUP_NOT_ALLOWED' },
        /allows the configured runner group 1 only/,
      ],
      [
        'REGISTRATION_TOKENS_NOT_ALLOWED',
        example,
        ciJob(),
        { kind: 'registration_token', labels: ['gpu'] },
        { code: 'REGISTRATION_TOKENS_NOT_ALLOWED' },
        /Rule "ci-main-repos" does not grant registration tokens/,
      ],
      [
        'REGISTRATION_TOKENS_NOT_ALLOWED for a bound rule',
        example,
        github(),
        { kind: 'registration_token', labels: [] },
        { code: 'REGISTRATION_TOKENS_NOT_ALLOWED', rule: 'per-run-builds' },
        /does not grant registration tokens/,
      ],
      [
        'VALIDATION_FAILED: labels asked of a bound rule',
        example,
        github(),
        jit(['gpu']),
        { code: 'VALIDATION_FAILED', field: 'labels', rule: 'per-run-builds' },
        /labels must be left out: rule "per-run-builds" binds the runner to your workflow run, so it is registered with exactly one label, run-9876543210-1/,
      ],
      [
        'VALIDATION_FAILED: more than 100 labels in all',
        noGroupsPolicy,
        caller({ sub: 'alice' }),
        jit(manyLabels),
        { code: 'VALIDATION_FAILED', field: 'labels' },
        /labels must hold at most 97 labels besides the 3 system labels \(GitHub allows 100 in all\)/,
      ],
    ];
    it.each(cases)('%s', (_name, policy, who, ask, expected, message) => {
      const decision = decideProvision(policy, who, ask, SETTINGS);
      expect(decision).toMatchObject({ allowed: false, ...expected });
      if (decision.allowed) return;
      expect(decision.message).toMatch(message);
      expect(decision.reasons.length).toBeGreaterThan(0);
      expect(decision.reasons.at(-1)).toBe(decision.message);
    });
  });

  it('grants what a Kubernetes service account may have, registration tokens included', () => {
    const pods = caller(kubernetesClaims(), CLUSTER_ISS);
    expect(decideProvision(example, pods, { kind: 'registration_token', labels: ['team-a-build'] }, SETTINGS)).toMatchObject({
      allowed: true,
      rule: 'team-a-pods',
      labels: ['self-hosted', 'linux', 'x64', 'team-a-build'],
      runnerGroupId: 4,
      matchedClaims: { 'kubernetes.io.namespace': 'team-a', 'kubernetes.io.serviceaccount.name': 'runner-launcher' },
    });
  });

  it('an admin rule without labels allows only the system labels', () => {
    const admin = caller(corpClaims(), CORP_ISS);
    expect(decideProvision(example, admin, jit(['self-hosted']), SETTINGS)).toMatchObject({ allowed: true, rule: 'platform-admins', runnerGroupId: 1 });
    expect(decideProvision(example, admin, jit(['gpu']), SETTINGS)).toMatchObject({ allowed: false, code: 'LABEL_NOT_ALLOWED' });
  });

  describe('without a policy file (the seed\'s behaviour)', () => {
    const open: Policy = { ...example, rules: null };

    it('allows any labels after the system labels, once each, in the default group, without limits', () => {
      expect(decideProvision(open, caller({}), jit(['linux', 'production-deploy', 'production-deploy']), SETTINGS)).toMatchObject({
        allowed: true,
        rule: null,
        labels: ['self-hosted', 'linux', 'x64', 'production-deploy'],
        runnerGroupId: 1,
        limits: { maxRunners: null, maxRunnersPerIdentity: null },
        matchedClaims: {},
      });
    });

    it('refuses another runner group as the seed did', () => {
      expect(decideProvision(open, caller({}), jit(['a'], 2), SETTINGS)).toMatchObject({
        allowed: false,
        code: 'VALIDATION_FAILED',
        field: 'runner_group_id',
        message: 'runner_group_id must be 1: this service registers runners in runner group 1 only',
      });
    });
  });
});
