import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { errorCodeOf } from '../../common/domain-error.js';
import { plural } from '../../common/text.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Transactions } from '../../database/transactions.service.js';
import { GithubClient } from '../../github/github.client.js';
import type { GithubRunner } from '../../github/github.types.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import { GithubRunnersService } from '../github-runners.service.js';
import type { RunnerEntity } from '../runner.entity.js';
import { changesRow, insideGracePeriod, type ObservedState, observedState, registrationMismatch } from '../runner-state.rules.js';
import { RunnersRepository } from '../runners.repository.js';
import { RunnerReconciliationRepository, type RunnerObservation } from './runner-reconciliation.repository.js';
import { UnfinishedRequests } from './unfinished-requests.service.js';
import { ForeignRunnersService } from './foreign-runners.service.js';
import {
  changeReport,
  countsOf,
  foreignCountOnly,
  type ForeignRunnerReport,
  type ForeignRunnersSummary,
  type RunnerChangeReport,
  type SyncOptions,
  type SyncReport,
  stoppedWhileListingReport,
} from './reconciliation-report.js';

/** Rows changed per statement (and per transaction) in a sync. */
const SYNC_BATCH_SIZE = 500;
/**
 * last_seen_at of an online runner is refreshed when it is older than this, not on every sync:
 * cleanup counts in hours, and 10,000 online runners would otherwise mean 10,000 writes a sync.
 */
const LAST_SEEN_RESOLUTION_MS = 5 * 60_000;
/**
 * Runners missing from a listing are looked up one by one before they are marked deleted (a few a
 * sync: ephemeral runners that finished), GithubClient.backgroundConcurrency at once, at most this many a sync.
 */
const MAX_LOOKUPS_PER_SYNC = 500;

/** One row's planned write; `visible` when more than last_seen_at changes. */
interface PlannedChange {
  runner: RunnerEntity;
  observation: RunnerObservation;
  report?: RunnerChangeReport;
  visible: boolean;
}

/**
 * Keeps the runners table in step with GitHub's complete list of the org's runners: scheduled, and
 * `sync-github`. Only runners this service created (rows in its table) are ever changed; the org's
 * other runners are only read.
 */
@Injectable()
export class GithubSyncService {
  private readonly logger = new Logger(GithubSyncService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly reconciliation: RunnerReconciliationRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly githubRunners: GithubRunnersService,
    private readonly transactions: Transactions,
    private readonly unfinishedRequests: UnfinishedRequests,
    private readonly foreignRunners: ForeignRunnersService,
  ) {}

  /**
   * Lists every runner of the org (all pages) and brings each live row in line: status, busy, GitHub
   * id and last seen. A row whose runner is missing from the complete list becomes deleted (an
   * ephemeral runner that finished its job), unless it is pending and inside the grace period. The
   * rows of requests that never finished are settled (UnfinishedRequests). A list that fails or
   * changes while it is read changes nothing: unknown is not absent. Then it accounts for the org's
   * runners that this service did not issue (ForeignRunnersService).
   *
   * `signal` stops it between two list pages (nothing is changed then) or two batches of writes;
   * each batch commits whole or is not started, and the report says it stopped early.
   */
  async syncWithGithub(actor: Actor, options: SyncOptions = {}): Promise<SyncReport> {
    const started = Date.now();
    const { signal } = options;
    // Read while GitHub is listed: only rows that existed when the listing began are compared with it,
    // and one that changes meanwhile is skipped at the write (compare-and-set).
    const liveRows = this.runners.listLive();
    liveRows.catch(() => undefined); // awaited below, or dropped when the listing fails
    let listing;
    try {
      listing = await this.github.listAllRunners({ signal });
    } catch (error) {
      if (signal?.aborted) return this.stoppedWhileListing(started);
      await this.recordSummary(actor, 'failed', { error_code: errorCodeOf(error) });
      throw error;
    }
    options.onProgress?.(
      `Listed ${plural(listing.runners.length, 'runner')} on GitHub in ${plural(listing.requests, 'request')}`,
    );

    const now = new Date();
    const live = await liveRows;
    const byId = new Map(listing.runners.map((runner) => [runner.id, runner]));
    const byName = new Map(listing.runners.map((runner) => [runner.name, runner]));
    const planned: PlannedChange[] = [];
    const missing: RunnerEntity[] = [];
    const notOurs: ForeignRunnerReport[] = [];
    const unfinished: RunnerEntity[] = [];
    // Names on GitHub that a row without GitHub's id accounts for (see ForeignRunnersService.classify).
    const claimed = new Set<string>();
    let waiting = 0;
    for (const runner of live) {
      // A row whose request may still be under way is left alone; one whose request never finished
      // (the service died serving it) is settled once nobody can hold its credential. Either way a
      // runner on GitHub of its name is not foreign.
      const standing = this.unfinishedRequests.standing(runner, now);
      if (standing === 'under-way') waiting++;
      if (standing === 'unfinished') unfinished.push(runner);
      if (standing !== 'finished') {
        if (runner.githubRunnerId === null) claimed.add(runner.name);
        continue;
      }
      const onGithub = this.matchOnGithub(runner, byId, byName);
      const reason = onGithub && runner.githubRunnerId === null ? registrationMismatch(runner, onGithub) : null;
      if (onGithub && reason !== null) this.reportNotOurs(notOurs, runner, onGithub, reason);
      else if (onGithub) {
        if (runner.githubRunnerId === null) claimed.add(onGithub.name);
        this.planObserved(planned, runner, onGithub, now);
      } else if (insideGracePeriod(runner, this.config.runners.pendingGraceMinutes, now)) waiting++;
      else missing.push(runner);
    }
    const ours = new Set(live.map((runner) => runner.githubRunnerId).filter((id) => id !== null));
    const foreign = await this.foreignRunners.classify(listing.runners, ours, claimed);
    const confirmation = await this.confirmMissing(missing, planned, notOurs, now, signal);
    const settled = await this.settleUnfinished(actor, unfinished, byId, planned, now, signal);

    const written = await this.writeInBatches(actor, planned, options);
    let stoppedEarly = !written.complete || !settled.complete;
    let foreignSummary = this.foreignCountOnly(foreign.length);
    if (!stoppedEarly) {
      const accounted = await this.foreignRunners.reconcile(actor, foreign, signal);
      foreignSummary = accounted.summary;
      stoppedEarly = !accounted.complete;
    }

    const { updated, deleted } = written;
    const changes = [...settled.changes, ...written.changes];
    const report: SyncReport = {
      github_runners: listing.runners.length,
      list_requests: listing.requests,
      checked: live.length,
      updated,
      deleted,
      waiting,
      abandoned: settled.abandoned,
      withdrawn: settled.withdrawn,
      lookups: confirmation.lookups,
      unconfirmed: confirmation.unconfirmed + settled.unconfirmed,
      skipped: written.skipped + settled.skipped,
      changes,
      not_ours: notOurs,
      foreign: foreignSummary,
      listing_complete: true,
      stopped_early: stoppedEarly,
      duration_ms: Date.now() - started,
    };
    if (updated + deleted + settled.abandoned + settled.withdrawn + foreignSummary.removed.length > 0 || stoppedEarly) {
      await this.recordSummary(actor, 'succeeded', {
        ...countsOf(report),
        not_ours: notOurs.length,
        foreign: foreignSummary.total,
        foreign_new: foreignSummary.new.length,
        foreign_removed: foreignSummary.removed.length,
      });
    }
    this.logger.log(
      `Synced with GitHub: ${report.github_runners} runners listed in ${report.list_requests} requests; ` +
        `${report.checked} checked, ${updated} updated, ${deleted} deleted, ${waiting} waiting, ${report.skipped} skipped, ` +
        `${settled.abandoned} abandoned requests closed, ${settled.withdrawn} runners never handed out removed, ` +
        `${foreignSummary.total} foreign (${foreignSummary.new.length} new)` +
        (stoppedEarly ? '; stopped early, the next sync does the rest' : ''),
    );
    return report;
  }

  /**
   * Writes the planned changes SYNC_BATCH_SIZE rows at a time, each batch in one transaction with the
   * audit events of its deletions. `signal` stops it between two batches (`complete` false).
   */
  private async writeInBatches(
    actor: Actor,
    planned: PlannedChange[],
    options: SyncOptions,
  ): Promise<{ updated: number; deleted: number; skipped: number; changes: RunnerChangeReport[]; complete: boolean }> {
    const batches = Math.ceil(planned.length / SYNC_BATCH_SIZE);
    const result = { updated: 0, deleted: 0, skipped: 0, changes: [] as RunnerChangeReport[], complete: true };
    for (let index = 0; index < batches; index++) {
      if (options.signal?.aborted) {
        result.complete = false;
        this.logger.warn(`Sync stopped after ${index} of ${batches} batches of changes`);
        break;
      }
      const batch = planned.slice(index * SYNC_BATCH_SIZE, (index + 1) * SYNC_BATCH_SIZE);
      const applied = await this.transactions.run(async (tx) => {
        const changed = await this.reconciliation.applyObservations(
          tx,
          batch.map((item) => item.observation),
        );
        // Marking a runner deleted is a decision (it frees the name): it commits with its event.
        const deletions = batch.filter((item) => changed.has(item.runner.id) && item.observation.status === 'deleted');
        await this.audit.recordMany(
          tx,
          actor,
          deletions.map((item) => ({
            action: AUDIT_ACTIONS.SYNC,
            outcome: 'succeeded' as const,
            runnerId: item.runner.id,
            runnerName: item.runner.name,
            details: { from: item.runner.status, to: 'deleted', reason: 'gone from GitHub', github_runner_id: item.runner.githubRunnerId },
          })),
        );
        return changed;
      });
      for (const item of batch) {
        if (!applied.has(item.runner.id)) {
          result.skipped++;
          continue;
        }
        if (item.observation.status === 'deleted') result.deleted++;
        else if (item.visible) result.updated++;
        if (item.report) result.changes.push(item.report);
      }
      if (batches > 1) options.onProgress?.(`Wrote batch ${index + 1} of ${batches} (${plural(batch.length, 'runner')})`);
    }
    return result;
  }

  /** The foreign runners of a sync that stopped before it recorded them: their count, nothing done. */
  private foreignCountOnly(total: number): ForeignRunnersSummary {
    return foreignCountOnly(this.config.runners.foreignRunners, total);
  }

  /** The report of a sync stopped before GitHub's list was complete: nothing was read or changed. */
  private stoppedWhileListing(started: number): SyncReport {
    this.logger.warn("Sync stopped before GitHub's list was complete; nothing was changed");
    return stoppedWhileListingReport(this.config.runners.foreignRunners, Date.now() - started);
  }

  /** Plans the row's write when what GitHub shows differs from it (or its last_seen_at is old). */
  private planObserved(planned: PlannedChange[], runner: RunnerEntity, onGithub: GithubRunner, now: Date): void {
    const observed = observedState(runner, onGithub, now);
    const visible = changesRow(runner, observed);
    if (!visible && !this.lastSeenIsOld(runner, observed)) return;
    const report =
      observed.status === runner.status
        ? undefined
        : changeReport(runner, observed.status, `${onGithub.status} on GitHub`, onGithub.id);
    planned.push({ runner, observation: this.observation(runner, observed), report, visible });
  }

  /**
   * A registration-token row whose name another runner on GitHub holds: that runner is not the
   * row's (registrationMismatch), so it is left alone and the row stays pending until its token's
   * runner appears or cleanup expires it.
   */
  private reportNotOurs(notOurs: ForeignRunnerReport[], runner: RunnerEntity, onGithub: GithubRunner, reason: string): void {
    this.logger.warn(`Runner ${runner.name}: GitHub's runner ${onGithub.id} of that name is not its own (${reason}); left alone`);
    notOurs.push({ runner_id: runner.id, runner_name: runner.name, owner: runner.ownerName, github_runner_id: onGithub.id, reason });
  }

  /**
   * Asks GitHub about each runner the listing did not show before it is marked deleted. A listing
   * can skip a runner without any sign: when one runner goes and another comes between two pages,
   * the total stays the same and the later pages shift by one. Unknown is not absent, so only a
   * 404 deletes. At most MAX_LOOKUPS_PER_SYNC a sync; the rest wait for the next one.
   */
  private async confirmMissing(
    missing: RunnerEntity[],
    planned: PlannedChange[],
    notOurs: ForeignRunnerReport[],
    now: Date,
    signal?: AbortSignal,
  ): Promise<{ lookups: number; unconfirmed: number }> {
    const toCheck = missing.slice(0, MAX_LOOKUPS_PER_SYNC);
    let unconfirmed = missing.length - toCheck.length;
    let next = 0;
    const worker = async () => {
      // Stopped: the runners not asked about yet stay as they are (unconfirmed).
      while (next < toCheck.length && !signal?.aborted) {
        const runner = toCheck[next++];
        try {
          const { ours: onGithub, foreign } = await this.githubRunners.lookup(runner);
          if (foreign) {
            this.reportNotOurs(notOurs, runner, foreign.runner, foreign.reason);
          } else if (onGithub) {
            this.planObserved(planned, runner, onGithub, now);
          } else {
            planned.push({
              runner,
              observation: this.observation(runner, { status: 'deleted', busy: false, githubRunnerId: runner.githubRunnerId }),
              report: changeReport(runner, 'deleted', 'gone from GitHub'),
              visible: true,
            });
          }
        } catch (error) {
          unconfirmed++;
          this.logger.warn(`Could not confirm that runner ${runner.name} is gone from GitHub: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.github.backgroundConcurrency, toCheck.length) }, worker));
    return { lookups: next, unconfirmed: unconfirmed + (toCheck.length - next) };
  }

  /**
   * Settles the rows of requests that never finished (UnfinishedRequests.settle), a few at a time.
   * A runner that connected after all is updated like any other; a row GitHub could not be asked
   * about stays for the next sync.
   */
  private async settleUnfinished(
    actor: Actor,
    unfinished: RunnerEntity[],
    byId: Map<number, GithubRunner>,
    planned: PlannedChange[],
    now: Date,
    signal: AbortSignal | undefined,
  ): Promise<{ abandoned: number; withdrawn: number; unconfirmed: number; skipped: number; changes: RunnerChangeReport[]; complete: boolean }> {
    const result = { abandoned: 0, withdrawn: 0, unconfirmed: 0, skipped: 0, changes: [] as RunnerChangeReport[], complete: true };
    let next = 0;
    const worker = async () => {
      while (next < unfinished.length) {
        // Asked to stop: the rows not started yet are left for the next sync.
        if (signal?.aborted) {
          result.complete = false;
          return;
        }
        const runner = unfinished[next++];
        const listed = runner.githubRunnerId === null ? undefined : byId.get(runner.githubRunnerId);
        try {
          const settled = await this.unfinishedRequests.settle(actor, runner, listed);
          if (settled.outcome === 'changed') result.skipped++;
          else if (settled.outcome === 'handed-out' && listed) this.planObserved(planned, runner, listed, now);
          else if (settled.outcome === 'abandoned' || settled.outcome === 'withdrawn') {
            result[settled.outcome]++;
            result.changes.push(settled.report);
          }
        } catch (error) {
          result.unconfirmed++;
          this.logger.warn(`Could not settle runner ${runner.name}, whose request never finished: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.github.backgroundConcurrency, unfinished.length) }, worker));
    return result;
  }

  /**
   * A row's runner in the listing: by GitHub id once known; a registration-token runner by name
   * until then (the caller then checks it can be the one config.sh registered with the row's
   * token). A JIT row without an id is a request still under way, or one that died: it is never
   * matched by name here.
   */
  private matchOnGithub(
    runner: RunnerEntity,
    byId: Map<number, GithubRunner>,
    byName: Map<string, GithubRunner>,
  ): GithubRunner | undefined {
    if (runner.githubRunnerId !== null) return byId.get(runner.githubRunnerId);
    return runner.kind === 'registration_token' ? byName.get(runner.name) : undefined;
  }

  /** An online runner's last_seen_at is rewritten only once it is getting old. */
  private lastSeenIsOld(runner: RunnerEntity, observed: ObservedState): boolean {
    if (observed.lastSeenAt === undefined) return false;
    return runner.lastSeenAt === null || observed.lastSeenAt.getTime() - runner.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS;
  }

  private observation(runner: RunnerEntity, observed: ObservedState): RunnerObservation {
    return {
      id: runner.id,
      status: observed.status,
      busy: observed.busy,
      githubRunnerId: observed.githubRunnerId,
      lastSeenAt: observed.lastSeenAt ?? null,
      expectedStatus: runner.status,
      expectedGithubRunnerId: runner.githubRunnerId,
    };
  }

  /** The summary of a run, best effort: the run's work is done (or failed) either way. */
  private async recordSummary(actor: Actor, outcome: 'succeeded' | 'failed', details: Record<string, unknown>): Promise<void> {
    await this.audit.recordAlone(actor, { action: AUDIT_ACTIONS.SYNC, outcome, details }).catch((error: Error) => {
      this.logger.error(`Could not record the sync summary in the audit trail: ${error.message}`);
    });
  }
}
