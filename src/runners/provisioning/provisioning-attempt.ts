import type { Actor } from '../../auth/actor.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import type { RunnerEntity, RunnerKind } from '../runner.entity.js';
import type { NewRunner, RunnerChange } from '../runners.repository.js';

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
