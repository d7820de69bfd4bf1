/**
 * Claims shaped like the tokens of the issuers the service trusts in practice, for
 * `TestOidcProvider.token(claims)`. Each leaves out the provider's default `email` claim unless it
 * has one of its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** The `iss` of GitHub Actions' OIDC tokens (public: anyone can mint one for any audience). */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface GithubActionsClaimOptions {
  owner?: string;
  repo?: string;
  /** Default refs/heads/main. */
  ref?: string;
  run_id?: string | number;
  run_attempt?: string | number;
  /** A deployment environment; when set, `sub` names it instead of the ref (as GitHub does). */
  environment?: string;
  event_name?: string;
  /** GitHub sends ids as strings. */
  repository_owner_id?: string;
  repository_id?: string;
  workflow_file?: string;
  runner_environment?: 'github-hosted' | 'self-hosted';
}

/** A GitHub Actions job's token: `sub` `repo:OWNER/REPO:ref:REF` (or `…:environment:ENV`). */
export function githubActionsClaims(options: GithubActionsClaimOptions = {}): Record<string, unknown> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'widgets';
  const ref = options.ref ?? 'refs/heads/main';
  const repository = `${owner}/${repo}`;
  const workflow = options.workflow_file ?? 'ci.yml';
  return {
    sub: options.environment ? `repo:${repository}:environment:${options.environment}` : `repo:${repository}:ref:${ref}`,
    email: undefined,
    repository,
    repository_owner: owner,
    repository_owner_id: options.repository_owner_id ?? '1000001',
    repository_id: options.repository_id ?? '2000002',
    repository_visibility: 'private',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'CI',
    workflow_ref: `${repository}/.github/workflows/${workflow}@${ref}`,
    job_workflow_ref: `${repository}/.github/workflows/${workflow}@${ref}`,
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: randomBytes(20).toString('hex'),
    ...(options.environment !== undefined && { environment: options.environment }),
    event_name: options.event_name ?? 'push',
    run_id: String(options.run_id ?? '7000000001'),
    run_number: '42',
    run_attempt: String(options.run_attempt ?? '1'),
    runner_environment: options.runner_environment ?? 'github-hosted',
  };
}

/** A Kubernetes service account's projected token: `sub` `system:serviceaccount:NS:NAME`. */
export function kubernetesClaims(namespace: string, serviceAccount: string): Record<string, unknown> {
  return {
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    email: undefined,
    'kubernetes.io': {
      namespace,
      serviceaccount: { name: serviceAccount, uid: randomUUID() },
    },
  };
}

export interface CorporateClaimOptions {
  email: string;
  groups?: string[];
  /** Left out unless given. */
  email_verified?: boolean;
  sub?: string;
}

/** A person's token from a corporate identity provider: an opaque `sub`, email and groups. */
export function corporateClaims(options: CorporateClaimOptions): Record<string, unknown> {
  return {
    sub: options.sub ?? `00u${randomBytes(8).toString('hex')}`,
    email: options.email,
    ...(options.email_verified !== undefined && { email_verified: options.email_verified }),
    groups: options.groups ?? [],
  };
}
