import { Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { Transactions } from '../../database/transactions.service.js';
import { GithubClient } from '../../github/github.client.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import { GithubRunnersService } from '../github-runners.service.js';
import type { DeletionReason, RunnerEntity } from '../runner.entity.js';
import { hasConnected, isRunnerBusyError, observedState } from '../runner-state.rules.js';
import { RunnersRepository } from '../runners.repository.js';
import { SuspensionsService } from '../../suspensions/suspensions.service.js';
import type { RunnerRemovalReportDto } from '../dto/runner-removal-report.dto.js';
import { RunnersService } from '../runners.service.js';
import { changeReport, type CleanupOptions, type CleanupReport, failureMessage } from './reconciliation-report.js';
import { RunnerReconciliationRepository } from './runner-reconciliation.repository.js';

/** A cleanup reports progress this often (runners). */
const CLEANUP_PROGRESS_EVERY = 50;
const HOUR_MS = 3_600_000;

function describeAge(since: Date, now: Date): string {
  const hours = (now.getTime() - since.getTime()) / HOUR_MS;
  if (hours < 1) return `${Math.max(0, Math.floor(hours * 60))} min`;
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : `${Math.floor(hours)} h`;
}

/** One runner the cleanup is to remove, why, and how to read it again as it is now, if it is still due. */
interface Removal {
  runner: RunnerEntity;
  /** For people (the report, the audit event): "offline for 30 h", "never started: …". */
  reason: string;
  deletionReason: Extract<DeletionReason, 'never_started' | 'stale'>;
  stillDue: () => Promise<RunnerEntity | null>;
}

/**
 * Removes this service's JIT runners that never started in time, its runners that stayed pending or
 * offline too long, and the runners of suspended identities and rules once they are idle: scheduled, and `cleanup-stale-runners`. Only
 * rows in its table are ever touched.
 */
@Injectable()
export class StaleCleanupService {
  private readonly logger = new Logger(StaleCleanupService.name);

  constructor(
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly githubRunners: GithubRunnersService,
    private readonly transactions: Transactions,
    private readonly suspensions: SuspensionsService,
    private readonly lifecycle: RunnersService,
    private readonly reconciliation: RunnerReconciliationRepository,
  ) {}

  /**
   * Removes this service's JIT runners that did not come online by their expires_at
   * (JIT_START_TIMEOUT_MINUTES; reason never_started), then those that stayed pending or offline
   * longer than `hours` (reason stale): from GitHub first, then marked deleted with their audit
   * event. A runner GitHub shows online (or, for a never-started one, as having run) is left, and its
   * row brought up to date; a busy one is skipped and reported; a failure on one runner is reported
   * and the others go on. A dry run only lists what would be removed. `signal` stops it between two
   * runners, each removed whole or not at all.
   */
  async cleanupStaleRunners(actor: Actor, options: CleanupOptions): Promise<CleanupReport> {
    const started = Date.now();
    const now = new Date();
    const cutoff = new Date(now.getTime() - options.hours * HOUR_MS);
    const neverStarted = await this.reconciliation.listNeverStarted(now);
    const expired = new Set(neverStarted.map((runner) => runner.id));
    const stale = (await this.runners.listStale(cutoff)).filter((runner) => !expired.has(runner.id));
    const report: CleanupReport = {
      dry_run: options.dryRun,
      hours: options.hours,
      cutoff: cutoff.toISOString(),
      stale: stale.length,
      never_started: neverStarted.length,
      deleted: [],
      skipped_busy: [],
      failed: [],
      suspended: null,
      marked_for_removal: null,
      stopped_early: false,
      duration_ms: 0,
    };
    const work: Removal[] = [
      ...neverStarted.map((runner) => ({
        runner,
        reason: `never started: not online by its expires_at, ${describeAge(runner.expiresAt ?? now, now)} ago`,
        deletionReason: 'never_started' as const,
        stillDue: () => this.reconciliation.findStillNeverStarted(runner.id, new Date()),
      })),
      ...stale.map((runner) => ({
        runner,
        reason: `${runner.status} for ${describeAge(runner.lastSeenAt ?? runner.createdAt, now)}`,
        deletionReason: 'stale' as const,
        stillDue: () => this.runners.findStillStale(runner.id, cutoff),
      })),
    ];
    if (options.dryRun) {
      report.deleted = work.map((item) => changeReport(item.runner, 'deleted', item.reason));
      report.duration_ms = Date.now() - started;
      return report;
    }

    for (const [index, item] of work.entries()) {
      if (options.signal?.aborted) {
        report.stopped_early = true;
        this.logger.warn(`Cleanup stopped after ${index} of ${work.length} runners`);
        break;
      }
      const change = changeReport(item.runner, 'deleted', item.reason);
      try {
        const outcome = await this.removeStale(actor, item);
        if (outcome === 'deleted') report.deleted.push(change);
        else if (outcome === 'busy') report.skipped_busy.push(change);
      } catch (error) {
        if (isRunnerBusyError(error)) {
          report.skipped_busy.push(change);
        } else {
          this.logger.warn(`Cleanup could not remove runner ${item.runner.name}: ${(error as Error).message}`);
          report.failed.push({ ...change, error: failureMessage(error) });
        }
      }
      if ((index + 1) % CLEANUP_PROGRESS_EVERY === 0) {
        options.onProgress?.(`Cleaned up ${index + 1} of ${work.length} runners`);
      }
    }
    if (!report.stopped_early) {
      report.suspended = await this.removeRunnersOfSuspended(actor);
      report.marked_for_removal = await this.removeRunnersMarkedForRemoval(actor);
    }
    report.duration_ms = Date.now() - started;
    if (report.deleted.length + report.failed.length > 0 || report.stopped_early) {
      await this.recordSummary(actor, report.failed.length > 0 ? 'failed' : 'succeeded', {
        hours: options.hours,
        stale: report.stale,
        never_started: report.never_started,
        deleted: report.deleted.length,
        skipped_busy: report.skipped_busy.length,
        failed: report.failed.length,
        stopped_early: report.stopped_early,
      });
    }
    this.logger.log(
      `Cleanup of runners stale for over ${options.hours} h and JIT runners never started: ${report.deleted.length} deleted, ` +
        `${report.skipped_busy.length} busy, ${report.failed.length} failed` +
        (report.stopped_early ? '; stopped early, the next cleanup does the rest' : ''),
    );
    return report;
  }

  /**
   * The kill switch (with remove_runners) leaves a runner that is running a job; each cleanup
   * removes what is still live of such a suspended identity or rule once it is idle, through the
   * ordinary delete path.
   */
  private async removeRunnersOfSuspended(actor: Actor): Promise<RunnerRemovalReportDto> {
    const total: RunnerRemovalReportDto = { removed: [], busy: [], failed: [] };
    for (const target of await this.suspensions.listRemovingRunners()) {
      const selector = target.kind === 'rule' ? { rule: target.rule } : { owner: { issuer: target.issuer, subject: target.subject } };
      const report = await this.lifecycle.removeRunnersOf(actor, selector);
      total.removed.push(...report.removed);
      total.busy.push(...report.busy);
      total.failed.push(...report.failed);
    }
    if (total.removed.length + total.busy.length + total.failed.length > 0) {
      this.logger.log(
        `Runners of suspended identities or rules: ${total.removed.length} removed, ${total.busy.length} busy, ${total.failed.length} failed`,
      );
    }
    return total;
  }

  /**
   * Runners marked for removal (bind_to_run runners that took another run's job) that GitHub
   * refused to remove while they were busy: each removed once idle, through the ordinary delete path.
   */
  private async removeRunnersMarkedForRemoval(actor: Actor): Promise<RunnerRemovalReportDto> {
    const report = await this.lifecycle.removeRunnersMarkedForRemoval(actor);
    if (report.removed.length + report.busy.length + report.failed.length > 0) {
      this.logger.log(
        `Runners marked for removal: ${report.removed.length} removed, ${report.busy.length} busy, ${report.failed.length} failed`,
      );
    }
    return report;
  }

  /**
   * One runner: 'deleted', 'busy' (left alone), 'not-due' (online, or it did start, after all) or
   * 'changed' (by someone else).
   */
  private async removeStale(actor: Actor, item: Removal): Promise<'deleted' | 'busy' | 'not-due' | 'changed'> {
    const listed = item.runner;
    // The list was read at the start: a sync, a refresh or its owner may have changed this runner
    // since. Only a runner that is still due, as it is now, is removed.
    const runner = await item.stillDue();
    if (!runner || runner.githubRunnerId !== listed.githubRunnerId) return 'changed';
    // A runner of its name that is not its own (lookup's `foreign`) is left alone on GitHub.
    const { ours: onGithub, foreign } = await this.githubRunners.lookup(runner);
    // A never-started runner that has run after all (its row is behind GitHub) is not removed as such.
    const startedAfterAll = item.deletionReason === 'never_started' && onGithub !== null && hasConnected(onGithub);
    if (onGithub && (onGithub.status === 'online' || startedAfterAll)) {
      // Our record is behind GitHub (no sync since): record what it is instead.
      const observed = observedState(runner, onGithub, new Date());
      await this.transactions.run((tx) =>
        this.runners.updateIfUnchanged(tx, runner, {
          status: observed.status,
          busy: observed.busy,
          githubRunnerId: observed.githubRunnerId,
          lastSeenAt: observed.lastSeenAt,
        }),
      );
      return 'not-due';
    }
    if (onGithub?.busy) return 'busy';
    let github: string;
    if (onGithub) github = await this.github.deleteRunner(onGithub.id);
    else github = runner.githubRunnerId === null ? 'never-registered' : 'already-gone';

    const done = await this.transactions.run(async (tx) => {
      const changed = await this.runners.updateIfUnchanged(tx, runner, {
        status: 'deleted',
        busy: false,
        deletedAt: new Date(),
        deletionReason: item.deletionReason,
        ...(onGithub && { githubRunnerId: onGithub.id }),
      });
      if (!changed) return false;
      await this.audit.record(tx, actor, {
        action: AUDIT_ACTIONS.CLEANUP,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: {
          from: runner.status,
          to: 'deleted',
          reason: item.reason,
          deletion_reason: item.deletionReason,
          github,
          github_runner_id: onGithub?.id ?? runner.githubRunnerId,
          ...(runner.expiresAt && item.deletionReason === 'never_started' && { expires_at: runner.expiresAt.toISOString() }),
          ...(foreign && { not_ours: { github_runner_id: foreign.runner.id, reason: foreign.reason } }),
        },
      });
      return true;
    });
    return done ? 'deleted' : 'changed';
  }

  /** The summary of a run, best effort: the run's work is done (or failed) either way. */
  private async recordSummary(actor: Actor, outcome: 'succeeded' | 'failed', details: Record<string, unknown>): Promise<void> {
    await this.audit.recordAlone(actor, { action: AUDIT_ACTIONS.CLEANUP, outcome, details }).catch((error: Error) => {
      this.logger.error(`Could not record the cleanup summary in the audit trail: ${error.message}`);
    });
  }
}
