import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { API_PREFIX } from '../common/api.js';
import { DomainError, ERROR_CODES, errorCodeOf } from '../common/domain-error.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../common/page-cursor.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Transactions } from '../database/transactions.service.js';
import { AUDIT_ACTIONS } from './audit-actions.constants.js';
import { type AdminRunnerPage, type AdminRunnerResponseDto, toAdminRunnerResponse } from './dto/admin-runner-response.dto.js';
import type { ListRunnersQueryDto } from './dto/list-runners-query.dto.js';
import { DEFAULT_PAGE_SIZE } from './dto/runner-fields.js';
import { type RunnerRemovalReportDto, toRemovalReportRunner } from './dto/runner-removal-report.dto.js';
import { toRunnerResponse, type RunnerListResponseDto, type RunnerResponseDto } from './dto/runner-response.dto.js';
import { type GithubRemoval, GithubRunnersService } from './github-runners.service.js';
import { type RunnerEntity, type RunnerStatus, TERMINAL_STATUSES } from './runner.entity.js';
import { insideGracePeriod, isAbandoned, isRunnerBusyError, observedState, requestIsOverAfterMs } from './runner-state.rules.js';
import { type RunnerDirectoryFilter, RunnerListingsRepository } from './runner-listings.repository.js';
import { type RunnerChange, type RunnerOwner, RunnersRepository } from './runners.repository.js';

/** What removing a runner marked for removal came to; not-live: it was already gone (or not marked). */
export type RunnerRemovalOutcome = 'deleted' | 'busy' | 'failed' | 'not-live';

/** Whose runners removeRunnersOf removes: one owner's, or those a policy rule allowed. */
export type RunnersSelector = { owner: RunnerOwner } | { rule: string };

/** What the admin list takes: RunnerDirectoryPageFilter's filters, and the page as a client gives it. */
export interface RunnerDirectoryQuery {
  owner?: string;
  rule?: string;
  status?: RunnerStatus;
  label?: string;
  limit?: number;
  cursor?: string;
}

/** The owner, for the audit event of a change someone else made to their runner (an admin, the CLI). */
function ownerDetails(actor: Actor, runner: RunnerEntity): { owner?: Record<string, string> } {
  if (actor.issuer === runner.ownerIssuer && actor.subject === runner.ownerSubject) return {};
  return { owner: { issuer: runner.ownerIssuer, subject: runner.ownerSubject, name: runner.ownerName } };
}

/** The lifecycle of runners: list, get, refresh from GitHub, delete. */
@Injectable()
export class RunnersService {
  private readonly logger = new Logger(RunnersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly listings: RunnerListingsRepository,
    private readonly audit: AuditService,
    private readonly githubRunners: GithubRunnersService,
    private readonly transactions: Transactions,
  ) {}

  /** A pending row's request is surely over this long after it began. */
  private get requestOverAfterMs(): number {
    return requestIsOverAfterMs(this.config.app.requestDeadlineMs);
  }

  /** One page of the actor's runners, newest first, with the cursor of the next page. */
  async listRunners(actor: Actor, query: ListRunnersQueryDto): Promise<RunnerListResponseDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // Another owner's runner is no cursor of the caller's: refused like an unknown one.
    if (afterId !== undefined && !(await this.runners.isOwnedBy(actor, afterId))) throw invalidCursor();
    // One more than asked tells whether there is a next page.
    const page = await this.listings.listOwnedPage(actor, { status: query.status, limit: limit + 1, afterId });
    const runners = page.slice(0, limit);
    const nextCursor = page.length > limit ? encodeCursor(runners[runners.length - 1].id) : null;
    let next: string | null = null;
    if (nextCursor !== null) {
      const params = new URLSearchParams();
      if (query.status !== undefined) params.set('status', query.status);
      if (query.limit !== undefined) params.set('limit', String(limit));
      params.set('cursor', nextCursor);
      next = `/${API_PREFIX}/runners?${params.toString()}`;
    }
    return { runners: runners.map(toRunnerResponse), next_cursor: nextCursor, next };
  }

  /** Every owner's runners, or one user's: the ops view behind `list-runners`. */
  async listAllRunners(filter: RunnerDirectoryFilter): Promise<RunnerResponseDto[]> {
    const runners = await this.listings.listAll(filter);
    return runners.map(toRunnerResponse);
  }

  /**
   * One page of every owner's runners, newest first, narrowed by owner, rule, status and label, with
   * the cursor of the next page (the same cursor rules as listRunners): the admin view.
   */
  async listAllRunnersPage(query: RunnerDirectoryQuery): Promise<AdminRunnerPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (afterId !== undefined && !(await this.runners.existsById(afterId))) throw invalidCursor();
    const { owner, rule, status, label } = query;
    // One more than asked tells whether there is a next page.
    const page = await this.listings.listAllPage({ owner, rule, status, label, limit: limit + 1, afterId });
    const runners = page.slice(0, limit);
    const nextCursor = page.length > limit ? encodeCursor(runners[runners.length - 1].id) : null;
    return { runners: runners.map(toAdminRunnerResponse), next_cursor: nextCursor };
  }

  async getRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    return toRunnerResponse(await this.findOwnedOrThrow(actor, idOrName));
  }

  /**
   * Reads the runner from GitHub now (by id, or by name while a registration-token runner's id is
   * unknown) and records what it says: online is active, offline is offline (a runner that never
   * connected stays pending); gone from GitHub is deleted, except a pending runner inside the grace
   * period, or one whose name another runner on GitHub holds (not its own: see
   * GithubRunnersService.lookup; it stays pending). The change and its audit event commit together.
   */
  async refreshRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    const runner = await this.findOwnedOrThrow(actor, idOrName);
    // A deleted or failed runner is history; a JIT request still under way has nothing to read yet.
    if (TERMINAL_STATUSES.includes(runner.status) || (runner.kind === 'jit' && runner.githubRunnerId === null)) {
      return toRunnerResponse(runner);
    }
    let onGithub;
    let foreign;
    try {
      ({ ours: onGithub, foreign } = await this.githubRunners.lookup(runner));
    } catch (error) {
      await this.recordOutcome(actor, AUDIT_ACTIONS.REFRESH, runner, 'failed', { error_code: errorCodeOf(error) });
      throw error;
    }
    const now = new Date();
    let change: RunnerChange;
    if (onGithub) {
      const observed = observedState(runner, onGithub, now);
      change = { status: observed.status, busy: observed.busy, githubRunnerId: observed.githubRunnerId };
      if (observed.lastSeenAt) change.lastSeenAt = observed.lastSeenAt;
    } else if (foreign || insideGracePeriod(runner, this.config.runners.pendingGraceMinutes, now)) {
      // Someone else's runner holds the name on GitHub: it is left alone, and this row stays
      // pending until its token's runner appears or cleanup expires it.
      change = {};
      if (foreign) this.logger.warn(`Runner ${runner.name}: GitHub's runner ${foreign.runner.id} of that name is not its own (${foreign.reason}); left alone`);
    } else {
      change = { status: 'deleted', busy: false, deletedAt: now };
    }
    const to = change.status ?? runner.status;
    const changed = await this.transactions.run(async (tx) => {
      if (Object.keys(change).length > 0 && !(await this.runners.updateIfUnchanged(tx, runner, change))) return false;
      await this.audit.record(tx, actor, {
        action: AUDIT_ACTIONS.REFRESH,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: {
          from: runner.status,
          to,
          on_github: onGithub ? { id: onGithub.id, status: onGithub.status, busy: onGithub.busy } : null,
          ...(foreign && { not_ours: { github_runner_id: foreign.runner.id, reason: foreign.reason } }),
        },
      });
      return true;
    });
    if (!changed) {
      // Another request or the sync changed it meanwhile: show what it is now.
      return toRunnerResponse(await this.findOwnedOrThrow(actor, runner.id));
    }
    return toRunnerResponse({ ...runner, ...change, updatedAt: now });
  }

  /**
   * Removes the runner from GitHub (already gone there counts as done), then marks it deleted with
   * its audit event. A runner running a job stays as it is: RUNNER_BUSY. Deleting a deleted runner
   * answers it as it is.
   */
  async deleteRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    const runner = await this.findOwnedOrThrow(actor, idOrName);
    if (TERMINAL_STATUSES.includes(runner.status)) return toRunnerResponse(runner);
    return toRunnerResponse((await this.removeRunner(actor, runner)).runner);
  }

  /**
   * deleteRunner for any owner's runner (admins): the same rules and audit event, with the admin as
   * the actor and the owner in the event's details.
   */
  async deleteAnyRunner(actor: Actor, idOrName: string): Promise<AdminRunnerResponseDto> {
    const runner = await this.runners.findAny(idOrName);
    if (!runner) throw new DomainError(ERROR_CODES.RUNNER_NOT_FOUND, `No runner has the id or name "${idOrName}"`);
    if (TERMINAL_STATUSES.includes(runner.status)) return toAdminRunnerResponse(runner);
    return toAdminRunnerResponse((await this.removeRunner(actor, runner)).runner);
  }

  /**
   * Removes every live runner of one owner, or of everyone one policy rule allowed, one after the
   * other by deleteRunner's rules (each with its own audit event). A runner running a job (or still
   * being provisioned) is left and listed as busy; a failure at GitHub is listed and the others go on.
   */
  async removeRunnersOf(actor: Actor, selector: RunnersSelector): Promise<RunnerRemovalReportDto> {
    const runners =
      'rule' in selector ? await this.runners.listLiveByRule(selector.rule) : await this.runners.listLiveOwnedBy(selector.owner);
    return this.removeEach(actor, runners);
  }

  /**
   * Removes every live runner marked for removal (a bind_to_run runner that took another run's
   * job), by deleteRunner's rules: the cleanup's pass over those GitHub refused while they were busy.
   */
  async removeRunnersMarkedForRemoval(actor: Actor): Promise<RunnerRemovalReportDto> {
    return this.removeEach(actor, await this.runners.listLiveMarkedForRemoval());
  }

  /**
   * Removes one runner marked for removal, if it still is live: 'busy' while GitHub refuses (the
   * runner runs a job), 'failed' when GitHub or the database failed (logged); either way it stays
   * marked, for the next try.
   */
  async removeRunnerMarkedForRemoval(actor: Actor, runnerId: string): Promise<RunnerRemovalOutcome> {
    const runner = await this.runners.findAny(runnerId);
    if (!runner || TERMINAL_STATUSES.includes(runner.status) || runner.removalReason === null) return 'not-live';
    try {
      await this.removeRunner(actor, runner);
      return 'deleted';
    } catch (error) {
      if (error instanceof DomainError && error.code === ERROR_CODES.RUNNER_BUSY) return 'busy';
      this.logger.warn(`Could not remove runner ${runner.name} (marked: ${runner.removalReason}): ${(error as Error).message}`);
      return 'failed';
    }
  }

  /** Each runner by the delete path, one after the other; busy and failed ones are listed and the others go on. */
  private async removeEach(actor: Actor, runners: RunnerEntity[]): Promise<RunnerRemovalReportDto> {
    const report: RunnerRemovalReportDto = { removed: [], busy: [], failed: [] };
    for (const runner of runners) {
      const entry = toRemovalReportRunner(runner);
      try {
        const { github } = await this.removeRunner(actor, runner);
        report.removed.push({ ...entry, github });
      } catch (error) {
        if (error instanceof DomainError && error.code === ERROR_CODES.RUNNER_BUSY) {
          report.busy.push({ ...entry, reason: error.message });
        } else {
          if (!(error instanceof DomainError)) this.logger.error(`Could not remove runner ${runner.name}`, error as Error);
          const reason = error instanceof DomainError ? error.message : 'internal error (see the service log)';
          report.failed.push({ ...entry, error_code: errorCodeOf(error), reason });
        }
      }
    }
    return report;
  }

  /**
   * The delete path every removal of a live runner takes: from GitHub first, then the row with its
   * audit event. Returns the runner as it is afterwards and what GitHub's side came to. The owner is
   * named in the event when someone else acts.
   */
  private async removeRunner(actor: Actor, runner: RunnerEntity): Promise<{ runner: RunnerEntity; github: GithubRemoval }> {
    const owner = ownerDetails(actor, runner);
    if (runner.kind === 'jit' && runner.githubRunnerId === null && !isAbandoned(runner, Date.now(), this.requestOverAfterMs)) {
      await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'denied', { error_code: ERROR_CODES.RUNNER_BUSY, ...owner });
      throw new DomainError(
        ERROR_CODES.RUNNER_BUSY,
        `Runner "${runner.name}" is still being provisioned by its request; try again in a moment`,
        { runner_id: runner.id },
      );
    }
    let github: GithubRemoval;
    try {
      github = await this.githubRunners.remove(runner);
    } catch (error) {
      if (isRunnerBusyError(error)) {
        await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'denied', { error_code: ERROR_CODES.RUNNER_BUSY, ...owner });
        throw new DomainError(
          ERROR_CODES.RUNNER_BUSY,
          `Runner "${runner.name}" is running a job on GitHub and was left as it is; delete it when the job is done`,
          { runner_id: runner.id, github_runner_id: runner.githubRunnerId },
        );
      }
      await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'failed', { error_code: errorCodeOf(error), ...owner });
      throw error;
    }
    const now = new Date();
    const change: RunnerChange = { status: 'deleted', busy: false, deletedAt: now };
    // GitHub has removed it: the row follows whatever a refresh or sync wrote meanwhile.
    const changed = await this.transactions.run(async (tx) => {
      const marked = await this.runners.updateWhileLive(tx, runner.id, change);
      await this.audit.record(tx, actor, {
        action: AUDIT_ACTIONS.DELETE,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: {
          from: runner.status,
          github,
          github_runner_id: runner.githubRunnerId,
          ...(runner.removalReason !== null && { removal_reason: runner.removalReason }),
          ...(!marked && { already: 'deleted' }),
          ...owner,
        },
      });
      return marked;
    });
    this.logger.log(`Deleted runner ${runner.name} (GitHub: ${github}) for ${actor.name}`);
    if (!changed) return { runner: (await this.runners.findAny(runner.id)) ?? runner, github };
    return { runner: { ...runner, ...change, updatedAt: now }, github };
  }

  private async findOwnedOrThrow(actor: Actor, idOrName: string): Promise<RunnerEntity> {
    const runner = await this.runners.findOwned(actor, idOrName);
    if (!runner) {
      throw new DomainError(ERROR_CODES.RUNNER_NOT_FOUND, `You have no runner with the id or name "${idOrName}"`);
    }
    return runner;
  }

  /** An audit event of its own, for a request that changed nothing (denied, or failed at GitHub). */
  private async recordOutcome(
    actor: Actor,
    action: string,
    runner: RunnerEntity,
    outcome: 'denied' | 'failed',
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.recordAlone(actor, { action, outcome, runnerId: runner.id, runnerName: runner.name, details });
  }
}
