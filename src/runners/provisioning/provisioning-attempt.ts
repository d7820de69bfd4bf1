import type { Actor } from '../../auth/actor.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import type { RunnerEntity, RunnerKind } from '../runner.entity.js';
import type { NewRunner, RunnerChange } from '../runners.repository.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';

/** What one provisioning attempt carries from the caller's request to its closing event (ProvisioningAttempts). */

/** The name is held; a prefix request then tries another suffix (as a new attempt). */
export class NameTaken extends DomainError {
  /** `cause`: the error that showed it (GitHub's 409), which the attempt records in its place. */
  constructor(name: string, reason: string, advice = 'choose another runner_name', cause?: unknown) {
    super(ERROR_CODES.RUNNER_NAME_TAKEN, `The runner name "${name}" is ${reason}; ${advice}`, { runner_name: name }, { cause });
  }
}

/** The pending row an attempt reserves, the details of its 'attempted' event, and what it replaces. */
export interface Reservation {
  runner: Pick<NewRunner, 'kind' | 'ephemeral' | 'labels' | 'runnerGroupId'>;
  /** The grant's limits, checked against the live runners in the transaction that inserts the row; none when absent. */
  limits?: QuotaLimits;
  details: Record<string, unknown>;
  /** The owner's pending runner of the same name (from claimName), and the details of its 'replace' event. */
  replacing?: { runner: RunnerEntity; details: Record<string, unknown> };
  /** Why a name another request took between the claim and the insert is refused. */
  takenReason?: string;
}

/** What GitHub issued, as an attempt's work hands it back for the attempt to complete. */
export interface Issued<T> {
  /** Written to the pending row, in the transaction of the success event. */
  change: RunnerChange;
  /** Written once the answer has gone out (a JIT runner's expires_at): see requestProgress. */
  handedOut?: RunnerChange;
  /** The success event's details (never the credential: a fingerprint at most). */
  details: Record<string, unknown>;
  /** The caller's answer, from the completed row. */
  answer: (runner: RunnerEntity) => T;
  /** GitHub's id of a runner GitHub created: removed again when the attempt cannot complete. */
  createdOnGithub?: number;
}

/** What an attempt may claim: a name, and whether the caller's own pending runner there is replaced. */
export interface NameClaim {
  name: string;
  /** A prefix and a random suffix: not looked up first. */
  madeUp?: boolean;
  /** False for a generated name: any holder means "try another". */
  replaceable: boolean;
  /** Frees a name an abandoned request holds (the JIT flow); without it such a holder refuses the name. */
  releaseAbandoned?: (holder: RunnerEntity) => Promise<unknown>;
}

/**
 * One attempt under way: who asked for what, the row it reserved, and what its work found out on the
 * way. ProvisioningAttempts.run writes its closing event from this.
 */
export class Attempt {
  /** The name being tried: the one asked for, or the one the work picked (a prefix's suffix). */
  name: string | null;
  /** The pending row, once reserved. */
  runner: RunnerEntity | null = null;
  /** Added to the closing event when the attempt fails (what the work learned, e.g. about an orphan). */
  readonly failureDetails: Record<string, unknown> = {};
  /** GitHub's id of a runner this attempt created but could not hand out, kept on the failed row. */
  githubRunnerId: number | null = null;
  /** The policy's decision: the rule (null without a policy file) and the claims it looked at. */
  policy: { rule: string | null; claims: Record<string, unknown> } | null = null;

  constructor(
    readonly actor: Actor,
    readonly kind: RunnerKind,
    name: string | null,
    /** Details of the request for the closing event of an attempt that fails (e.g. the prefix). */
    readonly requestDetails: Record<string, unknown>,
  ) {
    this.name = name;
  }
}

/**
 * Errors that are a decision about the request (denied), not a failure to carry it out. One list for
 * both kinds: neither raises the codes only the other one lists.
 */
export const DENIAL_CODES: readonly string[] = [
  ERROR_CODES.VALIDATION_FAILED,
  ERROR_CODES.RUNNER_NAME_TAKEN,
  ERROR_CODES.RUNNER_BUSY,
  ERROR_CODES.REGISTRATION_TOKENS_DISABLED,
  ERROR_CODES.POLICY_NO_MATCH,
  ERROR_CODES.LABEL_NOT_ALLOWED,
  ERROR_CODES.RUNNER_GROUP_NOT_ALLOWED,
  ERROR_CODES.QUOTA_EXCEEDED,
  ERROR_CODES.REGISTRATION_TOKENS_NOT_ALLOWED,
  ERROR_CODES.IDENTITY_SUSPENDED,
];

/** Each kind of runner has its own provisioning action in the audit trail. */
export const PROVISION_ACTIONS: Record<RunnerKind, string> = {
  jit: AUDIT_ACTIONS.PROVISION_JIT,
  registration_token: AUDIT_ACTIONS.PROVISION_REGISTRATION_TOKEN,
};

/** Why the caller's own pending runner of the other kind keeps its name, by that runner's kind. */
export const HELD_BY_OTHER_KIND: Record<RunnerKind, { reason: string; advice: string }> = {
  jit: {
    reason: 'held by your pending JIT runner',
    advice: 'choose another runner_name, or delete that runner first (a JIT runner is never replaced by a registration token)',
  },
  registration_token: {
    reason: 'held by your pending registration-token runner',
    advice: 'choose another runner_name, or delete that runner first (a registration token is never replaced by a JIT runner)',
  },
};

/** Which rule decided, and the claims that made it match: on every event of the attempt. */
export function policyDetails(attempt: Attempt): Record<string, unknown> {
  if (!attempt.policy) return {};
  return { policy_rule: attempt.policy.rule, policy_claims: attempt.policy.claims };
}
