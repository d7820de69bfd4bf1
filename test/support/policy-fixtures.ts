/**
 * Policies and token claims for policy tests: the three issuer shapes of the access-policy issue,
 * with claims shaped like the real tokens (GitHub Actions, Kubernetes service accounts, a corporate IdP).
 */
import { parsePolicy, type PolicyLoadOptions } from '../../src/policy/policy.loader.js';
import type { DecisionSettings, Policy } from '../../src/policy/policy.types.js';

export const GITHUB_ISS = 'https://token.actions.githubusercontent.com';
export const CLUSTER_ISS = 'https://kubernetes.default.svc';
export const CORP_ISS = 'https://login.example.com';

/** The example policy, as an operator would write it. */
export const EXAMPLE_POLICY_YAML = `
issuers:
  - name: github-actions
    issuer: ${GITHUB_ISS}
    audience: runner-token-service
  - name: cluster-a
    issuer: ${CLUSTER_ISS}
    jwks_url: https://cluster-a.example/openid/v1/jwks
    audience: runner-token-service
    max_token_lifetime: 1h
  - name: corp
    issuer: ${CORP_ISS}
    audience: runner-token-service
    display_claim: email
rules:
  - name: per-run-builds
    issuer: github-actions
    claims:
      repository_owner_id: "1234567"          # GitHub sends ids as strings
      job_workflow_ref: { pattern: "my-org/ci/\\\\.github/workflows/build\\\\.yml@refs/heads/main" }
    grant: { bind_to_run: true, runner_groups: [3], max_runners_per_identity: 2 }
  - name: ci-main-repos
    issuer: github-actions
    claims:
      repository_owner: my-org
      repository: { pattern: "my-org/(api|web)" }
      ref: [refs/heads/main, refs/heads/release]
    grant:
      labels:
        required: [ci]
        allowed: [{ pattern: "gpu|large" }, arm64]
      runner_groups: [3, 5]
      max_runners: 20
      max_runners_per_identity: 4
      registration_tokens: false
  - name: team-a-pods
    issuer: cluster-a
    claims:
      kubernetes.io.namespace: team-a
      kubernetes.io.serviceaccount.name: runner-launcher
    grant: { labels: { allowed: [{ pattern: "team-a-.*" }] }, runner_groups: [4], max_runners_per_identity: 10, registration_tokens: true }
  - name: platform-admins
    issuer: corp
    claims: { groups: { contains: platform-admins }, email_verified: true }
    grant: { admin: true }
`;

export const LOAD_OPTIONS: PolicyLoadOptions = { authEnabled: true, displayClaim: 'email', clockToleranceSeconds: 30 };

export const SETTINGS: DecisionSettings = { systemLabels: ['self-hosted', 'linux', 'x64'], defaultRunnerGroupId: 1 };

/** A policy from YAML text, as the loader builds it from a file. */
export function policyFrom(yaml: string, options: Partial<PolicyLoadOptions> = {}): Policy {
  return parsePolicy(yaml, 'policy.yaml', { ...LOAD_OPTIONS, ...options }).policy;
}

/** The loader's message for a bad policy (the test fails if it loads). */
export function policyProblems(yaml: string, options: Partial<PolicyLoadOptions> = {}): string {
  try {
    parsePolicy(yaml, 'policy.yaml', { ...LOAD_OPTIONS, ...options });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the policy loaded, but problems were expected');
}

const now = 1_767_225_600;

/** A GitHub Actions job token's payload (a push to main of my-org/api, built by the org's reusable workflow). */
export function githubClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jti: '2b8d7c2e-1f3a-4c5e-9b7d-0a1e2f3c4d5e',
    sub: 'repo:my-org/api:ref:refs/heads/main',
    aud: 'runner-token-service',
    ref: 'refs/heads/main',
    sha: '9f4c6e0b1d2a3c4e5f60718293a4b5c6d7e8f901',
    repository: 'my-org/api',
    repository_owner: 'my-org',
    repository_owner_id: '1234567',
    repository_visibility: 'private',
    repository_id: '7654321',
    run_id: '9876543210',
    run_number: '42',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'build',
    head_ref: '',
    base_ref: '',
    event_name: 'push',
    ref_type: 'branch',
    job_workflow_ref: 'my-org/ci/.github/workflows/build.yml@refs/heads/main',
    iss: GITHUB_ISS,
    nbf: now - 5,
    exp: now + 300,
    iat: now,
    ...overrides,
  };
}

/** A projected Kubernetes service-account token's payload (namespace team-a, service account runner-launcher). */
export function kubernetesClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: ['runner-token-service'],
    exp: now + 3600,
    iat: now,
    iss: CLUSTER_ISS,
    jti: 'f0e1d2c3-b4a5-4968-8776-655443322110',
    'kubernetes.io': {
      namespace: 'team-a',
      node: { name: 'node-1', uid: '11111111-2222-3333-4444-555555555555' },
      pod: { name: 'launcher-7c9d8', uid: '66666666-7777-8888-9999-000000000000' },
      serviceaccount: { name: 'runner-launcher', uid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' },
    },
    nbf: now,
    sub: 'system:serviceaccount:team-a:runner-launcher',
    ...overrides,
  };
}

/** A corporate IdP's ID token payload for a platform admin. */
export function corpClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: CORP_ISS,
    sub: '00u1a2b3c4d5e6f7g8h9',
    aud: 'runner-token-service',
    iat: now,
    exp: now + 3600,
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Admin',
    groups: ['developers', 'platform-admins'],
    ...overrides,
  };
}
