import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { API_PREFIX } from '../common/api.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { type Transaction, Transactions } from '../database/transactions.service.js';
import type { SqlFragment } from '../database/sql-fragment.js';
import { type SuspensionResponseDto, toSuspensionResponse } from './dto/suspension-response.dto.js';
import type { SuspensionEntity } from './suspension.entity.js';
import { describeTarget, type SuspendedIdentity, type SuspensionTarget } from './suspension-target.js';
import { SuspensionsRepository } from './suspensions.repository.js';

/** The audit actions of suspensions (for an identity or a rule alike). */
export const SUSPENSION_AUDIT_ACTIONS = {
  SUSPEND: 'suspend_identity',
  RESUME: 'resume_identity',
} as const;

/** How old the snapshot of suspensions that ordinary requests are checked against may be. */
const SNAPSHOT_MAX_AGE_MS = 2_000;

/** How a suspension is lifted, for the refused caller. */
const HOW_TO_RESUME = `(POST /${API_PREFIX}/admin/identities/resume, or the resume-identity command) before you can use this service again`;

export interface SuspendResult {
  suspension: SuspensionResponseDto;
  /** The target was suspended before this call, which changed nothing. */
  alreadySuspended: boolean;
}

export interface ResumeResult {
  /** The suspension this call lifted; null when the target was not suspended (nothing changed). */
  lifted: SuspensionResponseDto | null;
}

function auditTarget(target: SuspensionTarget): Record<string, string> {
  return target.kind === 'identity' ? { issuer: target.issuer, subject: target.subject } : { rule: target.rule };
}

/** What a refused caller is told: what is suspended (its identity, its rule, or both) and how to get it lifted. */
function describeRefusal(covering: SuspensionEntity[]): string {
  const identity = covering.find((suspension) => suspension.rule === null);
  const rule = covering.find((suspension) => suspension.rule !== null)?.rule;
  const yours = identity && `Your identity (subject ${JSON.stringify(identity.subject)} of issuer ${identity.issuer}) is suspended`;
  if (yours && rule) {
    return `${yours}, and so is everyone the policy rule ${JSON.stringify(rule)} matched: an admin must resume both ${HOW_TO_RESUME}`;
  }
  if (yours) return `${yours}: an admin must resume it ${HOW_TO_RESUME}`;
  return `Everyone the policy rule ${JSON.stringify(rule)} matched is suspended, you included: an admin must resume the rule ${HOW_TO_RESUME}`;
}

/**
 * The kill switch's record: who is suspended, checked on every request that could add runners
 * (provisioning, in the statement or transaction that reserves the runner) and by the admin API.
 * Suspending and resuming commit together with their audit event. Removing a suspended identity's
 * runners is not done here (this module knows no runners): see the admin module's KillSwitchService.
 */
@Injectable()
export class SuspensionsService {
  private readonly logger = new Logger(SuspensionsService.name);
  private cached: { at: number; rows: Promise<SuspensionEntity[]> } | null = null;

  constructor(
    private readonly suspensions: SuspensionsRepository,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
  ) {}

  /**
   * Suspends the target. Suspending a target that is suspended already changes nothing and says so
   * (the first suspension, its time and reason stay); both are audited.
   */
  async suspend(
    actor: Actor,
    target: SuspensionTarget,
    options: { reason?: string | null; removeRunners?: boolean } = {},
  ): Promise<SuspendResult> {
    const reason = options.reason ?? null;
    const removeRunners = options.removeRunners ?? false;
    const result = await this.transactions.run(async (tx) => {
      const inserted = await this.suspensions.insertIfAbsent(tx, target, { createdBy: actor.name, reason, removeRunners });
      const suspension = await this.suspensions.findByTarget(tx, target);
      // Only a resume committed between the two statements gets here; nothing was changed, the caller may try again.
      if (!suspension) throw new Error('The suspension was lifted by a concurrent request while this one was made');
      // Asked again with remove_runners: from now on the cleanup removes what is left once idle.
      if (!inserted && removeRunners && !suspension.removeRunners) await this.suspensions.markRemoveRunners(tx, suspension.id);
      await this.audit.record(tx, actor, {
        action: SUSPENSION_AUDIT_ACTIONS.SUSPEND,
        outcome: 'succeeded',
        details: { target: auditTarget(target), reason, ...(!inserted && { already_suspended: true }) },
      });
      return { suspension: toSuspensionResponse(suspension), alreadySuspended: !inserted };
    });
    this.cached = null;
    if (!result.alreadySuspended) this.logger.warn(`${actor.name} suspended ${describeTarget(target)}`);
    return result;
  }

  /**
   * Lifts the target's suspension. Resuming a target that is not suspended changes nothing and says
   * so (idempotent, like suspend: a retried request or script gets the same answer); both are audited.
   */
  async resume(actor: Actor, target: SuspensionTarget): Promise<ResumeResult> {
    const lifted = await this.transactions.run(async (tx) => {
      const removed = await this.suspensions.deleteByTarget(tx, target);
      await this.audit.record(tx, actor, {
        action: SUSPENSION_AUDIT_ACTIONS.RESUME,
        outcome: 'succeeded',
        details: {
          target: auditTarget(target),
          ...(removed
            ? { suspended_at: removed.createdAt.toISOString(), suspended_by: removed.createdBy }
            : { was_suspended: false }),
        },
      });
      return removed;
    });
    this.cached = null;
    if (lifted) this.logger.warn(`${actor.name} resumed ${describeTarget(target)}`);
    return { lifted: lifted && toSuspensionResponse(lifted) };
  }

  /**
   * Whether the identity, or everyone its rule matched, is suspended: one indexed query, through
   * `tx` when given.
   */
  isSuspended(tx: Transaction | undefined, identity: SuspendedIdentity, rule: string | null): Promise<boolean> {
    return this.suspensions.existsCovering(tx, identity, rule);
  }

  /**
   * Throws IDENTITY_SUSPENDED when the actor's identity or its rule (null: none, e.g. without a
   * policy file) is suspended. The message names what is suspended and how it is lifted; the
   * reason an admin gave stays with the admins.
   */
  async assertNotSuspended(actor: SuspendedIdentity, rule: string | null, tx?: Transaction): Promise<void> {
    const covering = await this.suspensions.listCovering(tx, actor, rule);
    if (covering.length === 0) return;
    throw new DomainError(ERROR_CODES.IDENTITY_SUSPENDED, describeRefusal(covering), {
      suspended: covering.map((suspension) => {
        const { kind, issuer, subject, rule: suspendedRule, suspended_at } = toSuspensionResponse(suspension);
        return kind === 'identity' ? { kind, issuer, subject, suspended_at } : { kind, rule: suspendedRule, suspended_at };
      }),
    });
  }

  /**
   * assertNotSuspended's question as a condition for a statement that adds something (true when the
   * caller is suspended), so that the statement itself sees every suspension committed before it.
   */
  coveringCondition(actor: SuspendedIdentity, rule: string | null): (firstParam: number) => SqlFragment {
    return (firstParam) => this.suspensions.coveringCondition(firstParam, actor, rule);
  }

  /**
   * assertNotSuspended against a snapshot of every suspension, read at most every
   * SNAPSHOT_MAX_AGE_MS (the table is small: one row per suspended identity or rule) and dropped at
   * once when this process suspends or resumes. For requests that add nothing: another replica's
   * suspension reaches them within that time. Provisioning asks the database itself, in the
   * statement or transaction that reserves the runner (coveringCondition, assertNotSuspended).
   */
  async assertNotSuspendedRecently(actor: SuspendedIdentity, rule: string | null): Promise<void> {
    const all = await this.snapshot();
    const covering = all.filter(
      (suspension) =>
        (suspension.rule === null && suspension.issuer === actor.issuer && suspension.subject === actor.subject) ||
        (rule !== null && suspension.rule === rule),
    );
    if (covering.length > 0) await this.assertNotSuspended(actor, rule);
  }

  private snapshot(): Promise<SuspensionEntity[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > SNAPSHOT_MAX_AGE_MS) {
      const rows = this.suspensions.listAll();
      this.cached = { at: now, rows };
      rows.catch(() => (this.cached = null));
    }
    return this.cached.rows;
  }

  /**
   * The targets whose runners are to be removed (suspended with remove_runners): the cleanup removes
   * what is still live of them once it is idle.
   */
  async listRemovingRunners(): Promise<SuspensionTarget[]> {
    return (await this.suspensions.listRemovingRunners()).map((suspension) =>
      suspension.rule !== null
        ? { kind: 'rule', rule: suspension.rule }
        : { kind: 'identity', issuer: suspension.issuer ?? '', subject: suspension.subject ?? '' },
    );
  }

  /** Every suspension in force, newest first. */
  async list(): Promise<SuspensionResponseDto[]> {
    return (await this.suspensions.listAll()).map(toSuspensionResponse);
  }
}
