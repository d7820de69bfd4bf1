import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { type AuditRecord, AuditService } from '../../audit/audit.service.js';
import type { AuditOutcome } from '../../audit/audit-event.entity.js';
import { whenAnswerDelivered } from '../../common/answer-delivery.js';
import { DomainError, ERROR_CODES, errorCodeOf } from '../../common/domain-error.js';
import { isDatabaseUnavailable } from '../../database/database-errors.js';
import { DatabaseOutage } from '../../database/database-outage.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Transactions } from '../../database/transactions.service.js';
import { GithubClient } from '../../github/github.client.js';
import { Metrics } from '../../metrics/metrics.js';
import { GithubError } from '../../github/github.errors.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import type { RunnerEntity, RunnerKind } from '../runner.entity.js';
import { isAbandoned, isStillProvisioning, REQUEST_ABANDONED, requestIsOverAfterMs } from '../runner-state.rules.js';
import { isNameTaken, type NewRunner, type RecordChange, type RunnerChange, RunnersRepository } from '../runners.repository.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import { SuspensionsService } from '../../suspensions/suspensions.service.js';
import {
  Attempt,
  DENIAL_CODES,
  HELD_BY_OTHER_KIND,
  type Issued,
  type NameClaim,
  NameTaken,
  policyDetails,
  PROVISION_ACTIONS,
  type Reservation,
} from './provisioning-attempt.js';
import { RunnerQuotas } from './runner-quotas.service.js';

const NO_LIMITS: QuotaLimits = { maxRunners: null, maxRunnersPerIdentity: null };

/** GitHub's HTTP status, when an error carries one, for an audit event's details. */
function githubStatusOf(error: unknown): { github_status?: number } {
  return error instanceof GithubError && error.failure.status !== undefined ? { github_status: error.failure.status } : {};
}

/**
 * One provisioning attempt, of either kind, from the caller's request to its one closing audit event.
 * An attempt is made with `run`: the work claims a name, reserves the pending row (with its
 * 'attempted' event) and asks GitHub; `run` then completes the row with the 'succeeded' event, or,
 * whatever went wrong wherever, writes the one 'denied' or 'failed' event and marks the row failed.
 * (The one other closing event is that of an attempt whose process died: closeAbandoned.)
 */
@Injectable()
export class ProvisioningAttempts {
  private readonly logger = new Logger(ProvisioningAttempts.name);
  /** A pending row's request is surely over this long after it began. */
  private readonly requestOverAfterMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly quotas: RunnerQuotas,
    private readonly suspensions: SuspensionsService,
    private readonly audit: AuditService,
    private readonly transactions: Transactions,
    private readonly github: GithubClient,
    private readonly metrics: Metrics,
    private readonly outage: DatabaseOutage,
  ) {
    this.requestOverAfterMs = requestIsOverAfterMs(config.app.requestDeadlineMs);
  }

  async run<T>(
    actor: Actor,
    kind: RunnerKind,
    request: { name: string | null; details?: Record<string, unknown> },
    work: (attempt: Attempt) => Promise<Issued<T>>,
  ): Promise<T> {
    const attempt = new Attempt(actor, kind, request.name, request.details ?? {});
    let issued: Issued<T> | undefined;
    try {
      issued = await work(attempt);
      const answer = await this.complete(attempt, issued);
      this.metrics.provisions.inc({ kind, outcome: 'succeeded', code: '' });
      return answer;
    } catch (error) {
      if (issued?.createdOnGithub !== undefined) await this.removeCreated(attempt, issued.createdOnGithub);
      await this.closeUnsuccessful(attempt, error);
      throw error;
    }
  }

  /**
   * Who may take the name. Nobody holds it: free. The caller's own pending runner of this kind holds
   * it, and its request has finished: returned, to be replaced. Anything else is refused with why.
   */
  async claimName(attempt: Attempt, claim: NameClaim): Promise<RunnerEntity | undefined> {
    const { name } = claim;
    attempt.name = name;
    // Nobody can hold a name just made up: the unique index catches the rare collision (reserve throws NameTaken).
    if (claim.madeUp) return undefined;
    let holder = await this.runners.findActiveByName(name);
    // One clock reading for both checks: a holder is either abandoned or still provisioning, never neither.
    const now = Date.now();
    if (holder && claim.releaseAbandoned && isAbandoned(holder, now, this.requestOverAfterMs)) {
      await claim.releaseAbandoned(holder);
      holder = null;
    }
    if (!holder) return undefined;
    const own = holder.ownerIssuer === attempt.actor.issuer && holder.ownerSubject === attempt.actor.subject;
    if (!claim.replaceable || !own || holder.status !== 'pending') throw new NameTaken(name, 'taken by another runner');
    if (holder.kind !== attempt.kind) {
      const refusal = HELD_BY_OTHER_KIND[holder.kind];
      throw new NameTaken(name, refusal.reason, refusal.advice);
    }
    if (isStillProvisioning(holder, now, this.requestOverAfterMs)) {
      throw new NameTaken(name, 'still being provisioned by an earlier request', 'retry in a moment');
    }
    return holder;
  }

  /**
   * The common case in one round trip, before any name is claimed: a name nobody holds, no quota to
   * count, no suspension covering the caller. The row and its 'attempted' event are one statement,
   * which writes nothing otherwise; then undefined is answered, and the caller claims the name and
   * reserves as usual (claimName, reserve), which says what stood in the way.
   */
  async reserveIfFree(attempt: Attempt, name: string, reservation: Reservation): Promise<RunnerEntity | undefined> {
    if (this.quotas.anyToCount(attempt.policy?.rule ?? null, reservation.limits ?? NO_LIMITS)) return undefined;
    attempt.name = name;
    return (await this.insertUnlessSuspended(attempt, name, reservation)) ?? undefined;
  }

  /**
   * Writes the pending row and its 'attempted' event in one transaction, before GitHub is called,
   * unless the caller is suspended or over a quota. Marking the replaced runner deleted is part of
   * the same transaction, so nobody can take the name in between. With nothing to replace and no
   * quota to count, the transaction is one statement.
   */
  async reserve(attempt: Attempt, reservation: Reservation): Promise<RunnerEntity> {
    const { actor } = attempt;
    const { replacing } = reservation;
    const name = attempt.name;
    if (name === null) throw new Error('A provisioning attempt must claim a name before it reserves a runner');
    const rule = attempt.policy?.rule ?? null;
    const limits = reservation.limits ?? NO_LIMITS;
    try {
      if (!replacing && !this.quotas.anyToCount(rule, limits)) {
        const inserted = await this.insertUnlessSuspended(attempt, name, reservation);
        if (inserted) return inserted;
        // Suspended, or the name was taken meanwhile: the transaction below says which (or goes on, when
        // the suspension was lifted or the name given back meanwhile).
      }
      const { row, attempted } = this.pendingRow(attempt, name, reservation);
      attempt.runner = await this.transactions.run(async (tx) => {
        if (replacing) {
          const deleted = await this.runners.updateWhilePending(tx, replacing.runner.id, replacing.runner.githubRunnerId, {
            status: 'deleted',
            deletedAt: new Date(),
          });
          if (!deleted) throw new NameTaken(name, 'being changed by another request', 'retry in a moment');
          await this.audit.record(tx, actor, {
            action: AUDIT_ACTIONS.REPLACE,
            outcome: 'succeeded',
            runnerId: replacing.runner.id,
            runnerName: name,
            details: replacing.details,
          });
        }
        // In the transaction that adds the runner: a suspension committed before it is always seen.
        await this.suspensions.assertNotSuspended(actor, rule, tx);
        await this.quotas.enforce(tx, actor, rule, limits);
        // The row and its "attempted" event in one statement.
        return this.runners.insertRecorded(tx, row, attempted);
      });
    } catch (error) {
      // Another request took the name between the claim and our insert.
      if (isNameTaken(error)) throw new NameTaken(name, reservation.takenReason ?? 'taken by another runner');
      throw error;
    }
    return attempt.runner;
  }

  /**
   * The row and its "attempted" event as one statement (no transaction around it), which writes
   * nothing, and answers null, when a suspension covers the caller or a live runner holds the name as
   * it runs.
   */
  private async insertUnlessSuspended(attempt: Attempt, name: string, reservation: Reservation): Promise<RunnerEntity | null> {
    const { row, attempted } = this.pendingRow(attempt, name, reservation);
    const unlessSuspended = this.suspensions.coveringCondition(attempt.actor, row.policyRule);
    const inserted = await this.runners.insertRecorded(this.transactions.singleStatement, row, attempted, unlessSuspended);
    if (inserted) attempt.runner = inserted;
    return inserted;
  }

  /** The pending row a reservation writes, and its "attempted" event. */
  private pendingRow(attempt: Attempt, name: string, reservation: Reservation): { row: NewRunner; attempted: RecordChange } {
    const { actor } = attempt;
    const { runner: planned } = reservation;
    const row: NewRunner = {
      name,
      kind: attempt.kind,
      status: 'pending',
      ephemeral: planned.ephemeral,
      labels: planned.labels,
      runnerGroupId: planned.runnerGroupId,
      ownerIssuer: actor.issuer,
      ownerSubject: actor.subject,
      ownerName: actor.name,
      policyRule: attempt.policy?.rule ?? null,
    };
    const attempted: RecordChange = (runnerId, firstParam, source) =>
      this.audit.statement(
        actor,
        {
          action: PROVISION_ACTIONS[attempt.kind],
          outcome: 'attempted',
          runnerId,
          runnerName: name,
          details: { ...reservation.details, ...policyDetails(attempt) },
        },
        firstParam,
        source,
      );
    return { row, attempted };
  }

  /**
   * Stores what GitHub issued on the row with the success event, unless a newer request replaced the
   * row while GitHub was answering; only then is the credential handed out. What `handedOut` says
   * is written once the answer has gone out.
   */
  private async complete<T>(attempt: Attempt, issued: Issued<T>): Promise<T> {
    const runner = attempt.runner;
    if (!runner) throw new Error('A provisioning attempt issued a credential without reserving its runner first');
    // The change and its closing event in one statement, which is its own transaction: one round trip.
    const event = this.closingEvent(attempt, 'succeeded', issued.details);
    const completed = await this.runners.updateWhilePendingRecorded(
      this.transactions.singleStatement,
      runner.id,
      null,
      issued.change,
      (_runnerId, firstParam, source) => this.audit.statement(attempt.actor, event, firstParam, source),
    );
    if (!completed) throw new NameTaken(runner.name, 'being provisioned again by a newer request');
    const { handedOut } = issued;
    if (handedOut) {
      const githubRunnerId = issued.change.githubRunnerId ?? runner.githubRunnerId;
      whenAnswerDelivered(() => void this.recordHandedOut(runner, githubRunnerId, handedOut));
    }
    // The answer needs only what this attempt set; no need to read the row back.
    return issued.answer({ ...runner, ...issued.change, ...handedOut });
  }

  /** Best effort: without it, a sync removes the runner if it has not connected within the config's hour. */
  private async recordHandedOut(runner: RunnerEntity, githubRunnerId: number | null, change: RunnerChange): Promise<void> {
    try {
      // One UPDATE: no transaction around it.
      await this.runners.updateWhilePending(this.transactions.singleStatement, runner.id, githubRunnerId, change);
    } catch (error) {
      this.logger.error(`Could not record that runner ${runner.name} was handed out: ${(error as Error).message}`);
    }
  }

  /** GitHub created the runner but the attempt cannot hand it out: best effort to remove it again. */
  private async removeCreated(attempt: Attempt, githubRunnerId: number): Promise<void> {
    let removed = false;
    try {
      await this.github.deleteRunner(githubRunnerId);
      removed = true;
    } catch (deleteError) {
      this.logger.warn(`Could not remove runner ${attempt.name} (GitHub id ${githubRunnerId}): ${(deleteError as Error).message}`);
    }
    // The GitHub id stays on the failed row, so a retry can recognise the runner if it was not removed.
    attempt.githubRunnerId = githubRunnerId;
    Object.assign(attempt.failureDetails, { github_runner_id: githubRunnerId, removed_from_github: removed });
  }

  /**
   * The closing event of an attempt that did not succeed: denied when it was refused (a denial code)
   * before it reserved a row, else failed, with the row marked failed in the same transaction. When
   * that cannot be written, the event alone is tried once more, without the row (which stays
   * pending until a sync, a cleanup or the name's next request resolves it); when the database is
   * out of reach, both wait for it (closeWhenDatabaseIsBack). Best effort: a failure here is logged,
   * and the caller still gets the error that ended the attempt.
   */
  private async closeUnsuccessful(attempt: Attempt, error: unknown): Promise<void> {
    // An error translated for the caller (GitHub's 409 as RUNNER_NAME_TAKEN) is recorded as it came.
    const ended = error instanceof DomainError && error.cause instanceof DomainError ? error.cause : error;
    const code = errorCodeOf(ended);
    const { runner } = attempt;
    const outcome: AuditOutcome = runner === null && DENIAL_CODES.includes(code) ? 'denied' : 'failed';
    this.metrics.provisions.inc({ kind: attempt.kind, outcome, code });
    // Our own messages are safe to keep and show; an unexpected error's text is not.
    const reason = ended instanceof DomainError ? ended.message : 'Internal error while provisioning';
    const details = {
      error_code: code,
      ...githubStatusOf(ended),
      ...attempt.requestDetails,
      ...attempt.failureDetails,
      // A failed row keeps the reason itself.
      ...(runner === null && ended instanceof DomainError && { reason }),
    };
    const event = this.closingEvent(attempt, outcome, details);
    const failed: RunnerChange = { status: 'failed', failureCode: code, failureReason: reason, githubRunnerId: attempt.githubRunnerId };
    const what = `the failure of provisioning ${attempt.name ?? 'a runner'} (${code})`;
    // The database ended the attempt, or is known to be out of reach: trying now would only wait out another timeout.
    if (code === ERROR_CODES.DATABASE_UNAVAILABLE || this.outage.unavailableSince !== null) {
      this.closeWhenDatabaseIsBack(attempt, event, failed, what, ended);
      return;
    }
    try {
      await this.transactions.run(async (tx) => {
        if (runner) {
          const marked = await this.runners.updateWhilePending(tx, runner.id, null, failed);
          // A sync or the name's next request closed it meanwhile (REQUEST_ABANDONED): one closing event only.
          if (!marked && (await this.audit.hasClosingEvent(tx, runner.id, event.action))) return;
        }
        await this.audit.record(tx, attempt.actor, event);
      });
      return;
    } catch (recordError) {
      if (isDatabaseUnavailable(recordError)) {
        this.closeWhenDatabaseIsBack(attempt, event, failed, what, recordError);
        return;
      }
      if (!runner) {
        this.logger.error(`Could not record ${what} in the audit trail: ${(recordError as Error).message}`);
        return;
      }
      this.logger.error(`Could not mark ${what} on its runner row: ${(recordError as Error).message}`);
    }
    // Not tied to the row, which stays pending: its own closing event comes when it is resolved.
    await this.audit.recordAlone(attempt.actor, { ...event, runnerId: null }).catch((recordError: Error) => {
      this.logger.error(`Could not record ${what} in the audit trail: ${recordError.message}`);
    });
  }

  /**
   * Keeps the closing write until the database answers again (DatabaseOutage): the row, if still
   * pending, is marked failed and the event written, with the time the attempt ended, unless a
   * sync or the name's next request closed it first (as the next sync does if the process stops
   * before). An attempt that reserved no row left nothing pending: its event is not kept.
   */
  private closeWhenDatabaseIsBack(attempt: Attempt, event: AuditRecord, failed: RunnerChange, what: string, cause: unknown): void {
    const { runner, actor } = attempt;
    if (!runner) return this.logger.debug(`Not recording ${what}: the database is unavailable`);
    const late = { ...event, details: { ...event.details, ended_at: new Date().toISOString() } };
    const close = () =>
      this.transactions.run(async (tx) => {
        const marked = await this.runners.updateWhilePending(tx, runner.id, null, failed);
        if (!marked && (await this.audit.hasClosingEvent(tx, runner.id, late.action))) return;
        await this.audit.record(tx, actor, late);
      });
    this.outage.keep(what, close, cause);
  }

  /**
   * Closes an attempt whose request died before it completed (a crash or restart, or a closing
   * write lost in a database outage), found by `actor` (a sync, or a request that wants its name):
   * the row is marked failed with the closing event it never got. Nothing is written, and false
   * answered, when the row changed meanwhile.
   */
  async closeAbandoned(actor: Actor, runner: RunnerEntity, details: Record<string, unknown>): Promise<boolean> {
    const attempt = new Attempt(actor, runner.kind, runner.name, {});
    attempt.runner = runner;
    return this.transactions.run(async (tx) => {
      const failed = await this.runners.updateWhilePending(tx, runner.id, null, {
        status: 'failed',
        failureCode: REQUEST_ABANDONED,
        failureReason: 'The request that created this runner never finished',
      });
      if (!failed) return false;
      const event = { error_code: REQUEST_ABANDONED, ...details, noticed_by: actor.name };
      await this.audit.record(tx, actor, this.closingEvent(attempt, 'failed', event));
      return true;
    });
  }

  /** The one shape of an attempt's closing event. */
  private closingEvent(attempt: Attempt, outcome: AuditOutcome, details: Record<string, unknown>): AuditRecord {
    return {
      action: PROVISION_ACTIONS[attempt.kind],
      outcome,
      runnerId: attempt.runner?.id ?? null,
      runnerName: attempt.name,
      details: { ...details, ...policyDetails(attempt) },
    };
  }
}
