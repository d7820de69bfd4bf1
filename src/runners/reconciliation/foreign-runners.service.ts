import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { errorCodeOf } from '../../common/domain-error.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../../common/page-cursor.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { isKnownRunnerName } from '../../config/known-runner-names.js';
import { type Transaction, Transactions } from '../../database/transactions.service.js';
import { GithubClient } from '../../github/github.client.js';
import type { GithubRunner } from '../../github/github.types.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import { type ForeignRunnerResponseDto, toForeignRunnerResponse } from '../dto/foreign-runner-response.dto.js';
import { DEFAULT_PAGE_SIZE } from '../dto/runner-fields.js';
import { isRunnerBusyError } from '../runner-state.rules.js';
import { ForeignRunnersRepository } from './foreign-runners.repository.js';
import { failureMessage, type ForeignRunnerSighting, type ForeignRunnersSummary } from './reconciliation-report.js';
import { RunnerReconciliationRepository } from './runner-reconciliation.repository.js';

/** Foreign runners recorded per statement (and per transaction). */
const SIGHTING_BATCH_SIZE = 500;
/** First sightings logged one line each, at most this many a sync; the rest in one line. */
const MAX_WARNINGS_PER_SYNC = 20;

/** One page of the foreign runners; the caller adds the link to the next page. */
export interface ForeignRunnerPage {
  foreign_runners: ForeignRunnerResponseDto[];
  next_cursor: string | null;
}

function sightingOf(runner: GithubRunner): ForeignRunnerSighting {
  return { github_runner_id: runner.id, name: runner.name, status: runner.status, busy: runner.busy };
}

/**
 * Accounts for every runner of the org: the sync's complete listing says which ones this service
 * did not issue. Each is reported (a foreign_runner audit event and a warning the first time any
 * instance sees it, the sync report's count, `list-runners --foreign` and the admin API); with
 * FOREIGN_RUNNERS=remove, those offline and idle are removed from GitHub, each with its audit event.
 * A name KNOWN_RUNNER_NAMES matches is never foreign.
 */
/** A self-hosted runner of the org that a workflow_job event showed taking a job. */
export interface RunnerSeenInJob {
  githubRunnerId: number;
  runnerName: string | null;
  runnerGroupName: string | null;
  /** The repository (owner/name) whose job it took. */
  repository: string;
  jobId: number;
}

@Injectable()
export class ForeignRunnersService {
  private readonly logger = new Logger(ForeignRunnersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly issued: RunnerReconciliationRepository,
    private readonly foreignRunners: ForeignRunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly transactions: Transactions,
  ) {}

  /**
   * The runners of a complete listing that are foreign: not in the runners table by GitHub id (any
   * status), not `claimed` by name (a registration-token runner the sync adopts now, or the runner
   * of a JIT request still waiting for GitHub's answer), and not matched by KNOWN_RUNNER_NAMES. A
   * runner under a pending registration row's name that cannot be that row's (the sync's `not_ours`)
   * is foreign: nothing ties it to this service. `ours` are the GitHub ids of the live rows the sync
   * has read already; only the others are looked up (among deleted and failed rows).
   */
  async classify(listing: GithubRunner[], ours: ReadonlySet<number>, claimed: ReadonlySet<string>): Promise<GithubRunner[]> {
    const candidates = listing.filter((runner) => !ours.has(runner.id) && !claimed.has(runner.name) && !this.isKnown(runner.name));
    const issued = await this.issued.findIssuedGithubRunnerIds(candidates.map((runner) => runner.id));
    return candidates.filter((runner) => !issued.has(runner.id));
  }

  /**
   * Records the foreign runners of a complete listing (in batches; `signal` stops it between two),
   * reports the new ones, and with FOREIGN_RUNNERS=remove removes the offline, idle ones. `complete`
   * is false when it stopped early.
   */
  async reconcile(actor: Actor, foreign: GithubRunner[], signal?: AbortSignal): Promise<{ summary: ForeignRunnersSummary; complete: boolean }> {
    const summary: ForeignRunnersSummary = { policy: this.config.runners.foreignRunners, total: foreign.length, new: [], removed: [], failed: [] };
    const firstSeen = new Map<number, Date>();
    for (let start = 0; start < foreign.length; start += SIGHTING_BATCH_SIZE) {
      if (signal?.aborted) return { summary, complete: false };
      const batch = foreign.slice(start, start + SIGHTING_BATCH_SIZE);
      const fresh = await this.recordBatch(actor, batch, firstSeen);
      summary.new.push(...fresh.map(sightingOf));
    }
    if (signal?.aborted) return { summary, complete: false };
    await this.transactions.run((tx) => this.foreignRunners.markGoneExcept(tx, foreign.map((runner) => runner.id)));
    this.warnAbout(summary);
    if (summary.policy !== 'remove') return { summary, complete: true };
    return { summary, complete: await this.removeIdle(actor, foreign, firstSeen, summary, signal) };
  }

  /**
   * A runner a workflow_job event showed taking a job, which no row of this service has: recorded as
   * a sync's sighting would be, in the delivery's transaction, with a `foreign_runner` audit event
   * and a warning the first time any instance sees it. False for a name KNOWN_RUNNER_NAMES matches
   * (another tool's runner): nothing is recorded then.
   */
  async recordSeenInJob(tx: Transaction, actor: Actor, sighting: RunnerSeenInJob): Promise<boolean> {
    if (sighting.runnerName !== null && this.isKnown(sighting.runnerName)) return false;
    const name = sighting.runnerName ?? `github-runner-${sighting.githubRunnerId}`;
    if (!(await this.foreignRunners.recordSeen(tx, { id: sighting.githubRunnerId, name }))) return true;
    const job = { repository: sighting.repository, job_id: sighting.jobId };
    await this.audit.record(tx, actor, {
      action: AUDIT_ACTIONS.FOREIGN_RUNNER,
      outcome: 'succeeded',
      runnerName: name,
      details: { github_runner_id: sighting.githubRunnerId, name, runner_group: sighting.runnerGroupName, seen_in_job: job },
    });
    this.logger.warn(
      `Foreign runner on GitHub: ${name} (GitHub id ${sighting.githubRunnerId}) took job ${sighting.jobId} of ${sighting.repository}: ` +
        'this service did not issue it and KNOWN_RUNNER_NAMES does not match it',
    );
    return true;
  }

  /** One batch of sightings, and an audit event for each runner seen for the first time, in one transaction. */
  private recordBatch(actor: Actor, batch: GithubRunner[], firstSeen: Map<number, Date>): Promise<GithubRunner[]> {
    return this.transactions.run(async (tx) => {
      const sightings = await this.foreignRunners.recordSightings(tx, batch);
      for (const sighting of sightings) firstSeen.set(sighting.githubRunnerId, sighting.firstSeenAt);
      const fresh = new Set(sightings.filter((sighting) => sighting.isNew).map((sighting) => sighting.githubRunnerId));
      const added = batch.filter((runner) => fresh.has(runner.id));
      await this.audit.recordMany(
        tx,
        actor,
        added.map((runner) => ({
          action: AUDIT_ACTIONS.FOREIGN_RUNNER,
          outcome: 'succeeded' as const,
          runnerName: runner.name,
          details: {
            github_runner_id: runner.id,
            name: runner.name,
            status: runner.status,
            busy: runner.busy,
            os: runner.os,
            labels: runner.labels.map((label) => label.name),
            runner_group_id: runner.runner_group_id ?? null,
          },
        })),
      );
      return added;
    });
  }

  private warnAbout(summary: ForeignRunnersSummary): void {
    for (const runner of summary.new.slice(0, MAX_WARNINGS_PER_SYNC)) {
      this.logger.warn(
        `Foreign runner on GitHub: ${runner.name} (GitHub id ${runner.github_runner_id}, ${runner.status}${runner.busy ? ', busy' : ''}): ` +
          'this service did not issue it and KNOWN_RUNNER_NAMES does not match it',
      );
    }
    const unlisted = summary.new.length - MAX_WARNINGS_PER_SYNC;
    if (unlisted > 0) this.logger.warn(`${unlisted} more foreign runners seen for the first time: see list-runners --foreign`);
  }

  /**
   * FOREIGN_RUNNERS=remove: removes from GitHub each foreign runner that is offline and idle and was
   * first seen PENDING_GRACE_MINUTES ago at least (a runner another tool registered a moment ago is
   * offline until it starts). Each is read again first, and left when it came online, got a job,
   * changed its name, or became this service's meanwhile. False when `signal` stopped it early.
   */
  private async removeIdle(
    actor: Actor,
    foreign: GithubRunner[],
    firstSeen: Map<number, Date>,
    summary: ForeignRunnersSummary,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const seenBefore = Date.now() - this.config.runners.pendingGraceMinutes * 60_000;
    const candidates = foreign.filter(
      (runner) => isOfflineAndIdle(runner) && (firstSeen.get(runner.id)?.getTime() ?? Number.POSITIVE_INFINITY) <= seenBefore,
    );
    for (const listed of candidates) {
      if (signal?.aborted) return false;
      try {
        const outcome = await this.removeOne(actor, listed);
        if (outcome === 'removed') summary.removed.push(sightingOf(listed));
      } catch (error) {
        this.logger.warn(`Could not remove foreign runner ${listed.name} (GitHub id ${listed.id}): ${(error as Error).message}`);
        summary.failed.push({ ...sightingOf(listed), error: failureMessage(error) });
        await this.audit
          .recordAlone(actor, {
            action: AUDIT_ACTIONS.FOREIGN_RUNNER_REMOVED,
            outcome: 'failed',
            runnerName: listed.name,
            details: { github_runner_id: listed.id, name: listed.name, error_code: errorCodeOf(error) },
          })
          .catch((auditError: Error) => this.logger.error(`Could not record the failed removal in the audit trail: ${auditError.message}`));
      }
    }
    return true;
  }

  private async removeOne(actor: Actor, listed: GithubRunner): Promise<'removed' | 'left' | 'gone'> {
    const now = await this.github.getRunner(listed.id);
    if (!now) {
      await this.foreignRunners.markGone(listed.id);
      return 'gone';
    }
    if (now.name !== listed.name || this.isKnown(now.name) || !isOfflineAndIdle(now)) return 'left';
    if (await this.issued.isIssued(now.id, now.name)) return 'left';
    let github: 'deleted' | 'already-gone';
    try {
      github = await this.github.deleteRunner(now.id);
    } catch (error) {
      // It took a job between the read and the delete: left for the next sync.
      if (isRunnerBusyError(error)) return 'left';
      throw error;
    }
    await this.transactions.run(async (tx) => {
      await this.foreignRunners.markRemoved(tx, now.id);
      await this.audit.record(tx, actor, {
        action: AUDIT_ACTIONS.FOREIGN_RUNNER_REMOVED,
        outcome: 'succeeded',
        runnerName: now.name,
        details: { github_runner_id: now.id, name: now.name, status: now.status, busy: now.busy, github, policy: 'remove' },
      });
    });
    this.logger.warn(`Removed foreign runner ${now.name} (GitHub id ${now.id}) from GitHub: offline and idle (FOREIGN_RUNNERS=remove)`);
    return 'removed';
  }

  private isKnown(name: string): boolean {
    return isKnownRunnerName(name, this.config.runners.knownRunnerNames);
  }

  /** Every foreign runner the last complete listing showed, newest first: `list-runners --foreign`. */
  async listForeignRunners(): Promise<ForeignRunnerResponseDto[]> {
    return (await this.foreignRunners.listCurrentPage({})).map(toForeignRunnerResponse);
  }

  /** One page of them, for the admin API. */
  async listForeignRunnersPage(query: { limit?: number; cursor?: string }): Promise<ForeignRunnerPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (afterId !== undefined && !(await this.foreignRunners.existsById(afterId))) throw invalidCursor();
    // One more than asked tells whether there is a next page.
    const page = await this.foreignRunners.listCurrentPage({ limit: limit + 1, afterId });
    const rows = page.slice(0, limit);
    const nextCursor = page.length > limit ? encodeCursor(rows[rows.length - 1].id) : null;
    return { foreign_runners: rows.map(toForeignRunnerResponse), next_cursor: nextCursor };
  }
}

/** GitHub's runner object: status `offline` and `busy` false. */
function isOfflineAndIdle(runner: GithubRunner): boolean {
  return runner.status === 'offline' && !runner.busy;
}
