import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, ERROR_CODES, errorCodeOf } from '../common/domain-error.js';
import { GithubError } from '../github/github.errors.js';
import { AUDIT_ACTIONS } from './audit-actions.js';
import type { RunnerEntity, RunnerKind } from './runner.entity.js';
import { isNameTaken, type NewRunner, RunnersRepository } from './runners.repository.js';

/**
 * Errors that are a decision about the request (denied), not a failure to carry it out. One list for
 * both kinds: neither raises the codes only the other one lists.
 */
const DENIAL_CODES: readonly string[] = [
  ERROR_CODES.VALIDATION_FAILED,
  ERROR_CODES.RUNNER_NAME_TAKEN,
  ERROR_CODES.RUNNER_BUSY,
  ERROR_CODES.REGISTRATION_TOKENS_DISABLED,
];

/** Each kind of runner has its own provisioning action in the audit trail. */
const PROVISION_ACTIONS: Record<RunnerKind, string> = {
  jit: AUDIT_ACTIONS.PROVISION_JIT,
  registration_token: AUDIT_ACTIONS.PROVISION,
};

/** The name is held; a prefix request then quietly tries another suffix. */
export class NameTaken extends DomainError {
  constructor(name: string, reason: string, advice = 'choose another runner_name') {
    super(ERROR_CODES.RUNNER_NAME_TAKEN, `The runner name "${name}" is ${reason}; ${advice}`, { runner_name: name });
  }
}

/** A new attempt: its pending row, the details of its 'attempted' event, and what it replaces. */
export interface Reservation {
  runner: Pick<NewRunner, 'name' | 'kind' | 'ephemeral' | 'labels' | 'runnerGroupId'>;
  details: Record<string, unknown>;
  /** The owner's pending runner of the same name, and the details of its 'replace' event. */
  replacing?: { runner: RunnerEntity; details: Record<string, unknown> };
  /** Why a name another request took between the caller's check and the insert is refused. */
  takenReason?: string;
}

/** GitHub's HTTP status, when an error carries one, for an audit event's details. */
export function githubStatusOf(error: unknown): { github_status?: number } {
  return error instanceof GithubError && error.failure.status !== undefined ? { github_status: error.failure.status } : {};
}

/**
 * The bookkeeping a provisioning attempt of either kind shares: its pending row, and the one
 * closing audit event (succeeded, denied or failed) that every attempt ends with.
 */
@Injectable()
export class ProvisioningAttempts {
  private readonly logger = new Logger(ProvisioningAttempts.name);
  /** Errors whose closing event is already written, so the catch-all does not write a second. */
  private readonly audited = new WeakSet<object>();

  constructor(
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Writes the pending row and its 'attempted' event in one transaction, before GitHub is called.
   * Marking the replaced runner deleted is part of the same transaction, so nobody can take the
   * name in between.
   */
  async reserve(actor: Actor, reservation: Reservation): Promise<RunnerEntity> {
    const { runner: planned, replacing } = reservation;
    const name = planned.name;
    try {
      return await this.runners.transaction(async (manager) => {
        if (replacing) {
          const deleted = await this.runners.updateWhilePending(manager, replacing.runner.id, replacing.runner.githubRunnerId, {
            status: 'deleted',
            deletedAt: new Date(),
          });
          if (!deleted) throw new NameTaken(name, 'being changed by another request', 'retry in a moment');
          await this.audit.record(manager, actor, {
            action: AUDIT_ACTIONS.REPLACE,
            outcome: 'succeeded',
            runnerId: replacing.runner.id,
            runnerName: name,
            details: replacing.details,
          });
        }
        const runner = await this.runners.insert(manager, {
          name,
          kind: planned.kind,
          status: 'pending',
          ephemeral: planned.ephemeral,
          labels: planned.labels,
          runnerGroupId: planned.runnerGroupId,
          ownerIssuer: actor.issuer,
          ownerSubject: actor.subject,
          ownerName: actor.name,
        });
        await this.audit.record(manager, actor, {
          action: PROVISION_ACTIONS[planned.kind],
          outcome: 'attempted',
          runnerId: runner.id,
          runnerName: name,
          details: reservation.details,
        });
        return runner;
      });
    } catch (error) {
      // Another request took the name between the caller's check and our insert.
      if (isNameTaken(error)) throw new NameTaken(name, reservation.takenReason ?? 'taken by another runner');
      throw error;
    }
  }

  /**
   * Marks the attempt failed with its closing event (with GitHub's status when GitHub refused),
   * unless a newer request already changed the row. When this cannot be written it throws, and
   * `error` stays unaudited.
   */
  async fail(
    actor: Actor,
    runner: RunnerEntity,
    error: unknown,
    details: Record<string, unknown> = {},
    githubRunnerId: number | null = null,
  ): Promise<void> {
    const code = errorCodeOf(error);
    // Our own messages are safe to keep and show; an unexpected error's text is not.
    const reason = error instanceof DomainError ? error.message : 'Internal error while provisioning';
    await this.runners.transaction(async (manager) => {
      await this.runners.updateWhilePending(manager, runner.id, null, {
        status: 'failed',
        failureCode: code,
        failureReason: reason,
        githubRunnerId,
      });
      await this.audit.record(manager, actor, {
        action: PROVISION_ACTIONS[runner.kind],
        outcome: 'failed',
        runnerId: runner.id,
        runnerName: runner.name,
        details: { error_code: code, ...githubStatusOf(error), ...details },
      });
    });
    this.markAudited(error);
  }

  /**
   * The closing event of an attempt whose error has none yet: it ended before it had a row, or its
   * row could not record the failure. Best effort: the caller's error matters more.
   */
  async recordUnaudited(
    actor: Actor,
    kind: RunnerKind,
    runnerName: string | null,
    error: unknown,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    if (this.audited.has(error as object)) return;
    const code = errorCodeOf(error);
    try {
      await this.runners.transaction((manager) =>
        this.audit.record(manager, actor, {
          action: PROVISION_ACTIONS[kind],
          outcome: DENIAL_CODES.includes(code) ? 'denied' : 'failed',
          runnerName,
          details: {
            error_code: code,
            ...details,
            ...(error instanceof DomainError && { reason: error.message }),
          },
        }),
      );
    } catch (auditError) {
      this.logger.error(
        `Could not record the audit event of a refused or failed ${PROVISION_ACTIONS[kind]} attempt: ${(auditError as Error).message}`,
      );
    }
  }

  /** For an error thrown after its attempt's closing event was written. */
  markAudited<T>(error: T): T {
    if (typeof error === 'object' && error !== null) this.audited.add(error);
    return error;
  }
}
