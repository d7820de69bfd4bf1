/**
 * What a sync or a cleanup did, for the CLI (a table and a summary line, or `--json` as is), the
 * scheduler's log line and the audit trail. Field names are snake_case because they are printed.
 */
import { DomainError } from '../../common/domain-error.js';
import type { ForeignRunnerPolicy } from '../../config/app-config.js';
import type { RunnerRemovalReportDto } from '../dto/runner-removal-report.dto.js';
import type { RunnerEntity, RunnerStatus } from '../runner.entity.js';

/** A failure on one runner, for a report: a domain error's code and message, nothing of another error's. */
export function failureMessage(error: unknown): string {
  return error instanceof DomainError ? `${error.code}: ${error.message}` : 'internal error (see the service log)';
}

/** One runner a sync or cleanup changed, or would change. */
export interface RunnerChangeReport {
  runner_id: string;
  runner_name: string;
  owner: string;
  github_runner_id: number | null;
  from: RunnerStatus;
  to: RunnerStatus;
  /** Why, for people: "gone from GitHub", "online on GitHub", "pending for 30 h"… */
  reason: string;
}

/** The report of one runner's change, from its row as it was read. */
export function changeReport(
  runner: RunnerEntity,
  to: RunnerStatus,
  reason: string,
  githubRunnerId = runner.githubRunnerId,
): RunnerChangeReport {
  return {
    runner_id: runner.id,
    runner_name: runner.name,
    owner: runner.ownerName,
    github_runner_id: githubRunnerId,
    from: runner.status,
    to,
    reason,
  };
}

/** A runner on GitHub under the name of a pending registration-token row that is not that row's. */
export interface ForeignRunnerReport {
  runner_id: string;
  runner_name: string;
  owner: string;
  /** The other runner's GitHub id: left alone, never adopted. */
  github_runner_id: number;
  /** Why it is not the row's (registered before its token, another group, labels missing). */
  reason: string;
}

/** A runner of the org that this service did not issue, as a sync saw it. */
export interface ForeignRunnerSighting {
  github_runner_id: number;
  name: string;
  status: string;
  busy: boolean;
}

/** What a sync found and did about the runners of the org that this service did not issue. */
export interface ForeignRunnersSummary {
  /** FOREIGN_RUNNERS: `report`, or `remove` (those offline and idle are removed from GitHub too). */
  policy: ForeignRunnerPolicy;
  /**
   * Foreign runners in the listing: on GitHub, not issued by this service, and not matched by
   * KNOWN_RUNNER_NAMES. Zero means every runner of the org is accounted for.
   */
  total: number;
  /** Those seen for the first time, by any instance: each has a foreign_runner audit event. */
  new: ForeignRunnerSighting[];
  /** Removed from GitHub (policy remove): offline and idle, and foreign for PENDING_GRACE_MINUTES at least. */
  removed: ForeignRunnerSighting[];
  /** GitHub failed to remove these; the next sync tries again. */
  failed: (ForeignRunnerSighting & { error: string })[];
}

export interface SyncReport {
  /** Runners the org has on GitHub (all pages). */
  github_runners: number;
  /** List requests it took (100 runners a page). */
  list_requests: number;
  /** This service's live runners (not deleted or failed) that were compared. */
  checked: number;
  /** Runners whose status, busy flag or GitHub id changed (deletions not included). */
  updated: number;
  /** Runners marked deleted because GitHub no longer has them. */
  deleted: number;
  /**
   * Pending runners not on GitHub yet but inside the grace period, and rows of requests that may
   * still be under way: left as they are.
   */
  waiting: number;
  /**
   * Rows of requests that never finished (the service stopped while serving them) and never heard
   * from GitHub: closed as failed (REQUEST_ABANDONED), with the runner GitHub made for them removed.
   */
  abandoned: number;
  /**
   * JIT runners whose config is not known to have reached the caller (the request ended, or the
   * service died, before the answer went out) and that did not connect in the config's hour:
   * removed from GitHub, marked deleted.
   */
  withdrawn: number;
  /** Runners missing from the listing that were looked up one by one before being marked deleted. */
  lookups: number;
  /**
   * Runners missing from the listing whose lookup failed (or did not fit this sync), and rows of
   * unfinished requests GitHub could not be asked about: left as they are.
   */
  unconfirmed: number;
  /** Runners another request changed while the sync ran; the next sync looks again. */
  skipped: number;
  changes: RunnerChangeReport[];
  /**
   * Pending registration-token runners whose name GitHub shows on a runner that is not theirs: left
   * alone (the row stays pending until cleanup expires it), for an operator to look at.
   */
  not_ours: ForeignRunnerReport[];
  /** The org's runners that this service did not issue. */
  foreign: ForeignRunnersSummary;
  /** False when the sync was stopped before GitHub's list was complete: then nothing was changed. */
  listing_complete: boolean;
  /**
   * True when it was asked to stop (shutdown, Ctrl-C, a lost lease) before it was done: it stopped
   * between two batches, each of which was written whole or not at all; the next sync does the rest.
   */
  stopped_early: boolean;
  duration_ms: number;
}

export interface CleanupOptions {
  /** Runners pending or offline for longer than this many hours. */
  hours: number;
  /** List what would be removed, change nothing. */
  dryRun: boolean;
  /** A line of progress now and then, for long runs (the CLI prints it on stderr). */
  onProgress?: (message: string) => void;
  /** Stops the cleanup between two runners (the scheduler's shutdown, Ctrl-C, a lost lease). */
  signal?: AbortSignal;
}

export interface CleanupReport {
  dry_run: boolean;
  hours: number;
  /** Runners last seen (or created, if never seen) before this were stale. */
  cutoff: string;
  /** Stale runners found (never-started ones not included). */
  stale: number;
  /** JIT runners that did not come online by their expires_at (JIT_START_TIMEOUT_MINUTES): removed as never_started. */
  never_started: number;
  /** Removed from GitHub (or already gone) and marked deleted; in a dry run, what would be. */
  deleted: RunnerChangeReport[];
  /** Running a job on GitHub: left alone, tried again next time. */
  skipped_busy: RunnerChangeReport[];
  /** GitHub or the database failed for these; left as they were. */
  failed: (RunnerChangeReport & { error: string })[];
  /**
   * The runners of suspended identities and rules that were still live (busy when they were
   * suspended, or added since): each removed once idle, as DELETE would. Null in a dry run, or when
   * the run stopped early.
   */
  suspended: RunnerRemovalReportDto | null;
  /**
   * The runners marked for removal that were still live (a bind_to_run runner that took another
   * run's job, busy when that was seen): each removed once idle, as DELETE would. Null in a dry run,
   * or when the run stopped early.
   */
  marked_for_removal: RunnerRemovalReportDto | null;
  /**
   * True when it was asked to stop (shutdown, Ctrl-C, a lost lease) before it went through every
   * runner: it stopped between two runners, each removed whole or not at all.
   */
  stopped_early: boolean;
  duration_ms: number;
}

export interface SyncOptions {
  onProgress?: (message: string) => void;
  /** Stops the sync between two pages or batches (the scheduler's shutdown, Ctrl-C, a lost lease). */
  signal?: AbortSignal;
}

/** A report's counts, for the summary event (the lists are in the log and the CLI's output). */
export function countsOf(report: SyncReport): Record<string, unknown> {
  const { changes: _changes, not_ours: _notOurs, foreign: _foreign, ...counts } = report;
  return counts;
}

/** The foreign runners of a sync that stopped before it recorded them: their count, nothing done. */
export function foreignCountOnly(policy: ForeignRunnersSummary['policy'], total: number): ForeignRunnersSummary {
  return { policy, total, new: [], removed: [], failed: [] };
}

/** The report of a sync stopped before GitHub's list was complete: nothing was read or changed. */
export function stoppedWhileListingReport(policy: ForeignRunnersSummary['policy'], durationMs: number): SyncReport {
  return {
    github_runners: 0,
    list_requests: 0,
    checked: 0,
    updated: 0,
    deleted: 0,
    waiting: 0,
    abandoned: 0,
    withdrawn: 0,
    lookups: 0,
    unconfirmed: 0,
    skipped: 0,
    changes: [],
    not_ours: [],
    foreign: foreignCountOnly(policy, 0),
    listing_complete: false,
    stopped_early: true,
    duration_ms: durationMs,
  };
}
