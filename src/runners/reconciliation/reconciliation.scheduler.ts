import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Actor } from '../../auth/actor.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { GithubBudget } from '../../github/github-budget.service.js';
import { Metrics } from '../../metrics/metrics.js';
import { GithubSyncService } from './github-sync.service.js';
import { JobLeases } from './job-leases.service.js';
import { StaleCleanupService } from './stale-cleanup.service.js';

export const SYNC_JOB = 'sync-github';
export const CLEANUP_JOB = 'cleanup-stale-runners';

/**
 * Another instance may start the job this long after the last start at the earliest, as a share of
 * the interval: the instances' timers are not aligned, and a tick that comes a little early must
 * still count as the same tick.
 */
const MIN_GAP_SHARE = 0.9;
/** At shutdown a run under way is asked to stop and given this long to do so. */
const SHUTDOWN_WAIT_MS = 15_000;

/** What one tick came to, on this instance. */
export type TickOutcome = 'ran' | 'failed' | 'overrun' | 'not-due' | 'rate-limited';

type JobName = typeof SYNC_JOB | typeof CLEANUP_JOB;
/** What one run did, for the log line, and whether it went through (not stopped early). */
interface JobRun {
  summary: string;
  complete: boolean;
}
const JOB_NAMES: readonly JobName[] = [SYNC_JOB, CLEANUP_JOB];

/**
 * The background reconciliation: sync with GitHub every SYNC_INTERVAL_SECONDS and clean up stale
 * runners every CLEANUP_INTERVAL_MINUTES, the same service methods as `sync-github` and
 * `cleanup-stale-runners`. Each tick runs on one instance only (a lease in the database), and a run
 * that outlasts its interval is not started again until it ends. While GitHub says wait (its rate
 * limit, shared by every instance) ticks are skipped. Only the HTTP service loads this.
 */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReconciliationScheduler.name);
  private readonly actor = Actor.system('scheduler');
  /** This instance, as the lease table names it. */
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<JobName, Promise<TickOutcome>>();
  private readonly stopping = new AbortController();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sync: GithubSyncService,
    private readonly cleanup: StaleCleanupService,
    private readonly jobs: JobLeases,
    private readonly registry: SchedulerRegistry,
    private readonly metrics: Metrics,
    private readonly githubBudget: GithubBudget,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) {
      this.logger.log('Scheduler is off (SCHEDULER_ENABLED=false): run sync-github and cleanup-stale-runners from the CLI');
      return;
    }
    for (const name of JOB_NAMES) {
      this.metrics.schedulerLeaseHeld.set({ job: name }, 0);
      this.registry.addInterval(name, setInterval(() => void this.tick(name), this.intervalMs(name)));
    }
    this.logger.log(
      `Scheduler on: ${SYNC_JOB} every ${this.config.scheduler.syncIntervalSeconds} s, ` +
        `${CLEANUP_JOB} every ${this.config.scheduler.cleanupIntervalMinutes} min (instance ${this.holder})`,
    );
  }

  /**
   * Stops the timers, asks a run under way to stop, and waits for it (for a while), so that it
   * does not meet a closed database halfway through a runner.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const name of JOB_NAMES) {
      if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
    });
    await Promise.race([Promise.allSettled(this.running.values()), deadline]);
    clearTimeout(timer);
  }

  /**
   * One tick of a job: skipped while this instance still runs the previous one, while GitHub says
   * wait, and when another instance took this tick; otherwise runs it under the lease. Never throws.
   */
  tick(name: string): Promise<TickOutcome> {
    if (!isJobName(name)) throw new Error(`No scheduled job named ${name}`);
    if (this.running.has(name)) {
      this.logger.warn(`${name}: the previous run is still going; this tick is skipped`);
      this.metrics.reconciliationRuns.inc({ job: name, outcome: 'skipped' });
      return Promise.resolve('overrun');
    }
    const run = this.runUnderLease(name).finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  /** One run of `sync-github`, stopping between pages or batches when `signal` fires; returns its summary for the log line. */
  private async syncWithGithub(signal: AbortSignal): Promise<JobRun> {
    const report = await this.sync.syncWithGithub(this.actor, { signal });
    if (report.listing_complete) this.metrics.foreignRunners.set(report.foreign.total);
    const summary = `${report.updated} updated, ${report.deleted} deleted, ${report.foreign.total} foreign`;
    return { summary: report.stopped_early ? `${summary}; stopped early` : summary, complete: !report.stopped_early };
  }

  /** One run of `cleanup-stale-runners`, stopping between runners when `signal` fires. */
  private async cleanupStaleRunners(signal: AbortSignal): Promise<JobRun> {
    const report = await this.cleanup.cleanupStaleRunners(this.actor, {
      hours: this.config.runners.staleRunnerHours,
      dryRun: false,
      signal,
    });
    const summary = `${report.deleted.length} deleted, ${report.skipped_busy.length} busy, ${report.failed.length} failed`;
    return { summary: report.stopped_early ? `${summary}; stopped early` : summary, complete: !report.stopped_early };
  }

  /** The job's work; `signal` fires at shutdown or when the lease is lost. */
  private runJob(name: JobName, signal: AbortSignal): Promise<JobRun> {
    switch (name) {
      case SYNC_JOB:
        return this.syncWithGithub(signal);
      case CLEANUP_JOB:
        return this.cleanupStaleRunners(signal);
    }
  }

  private intervalMs(name: JobName): number {
    switch (name) {
      case SYNC_JOB:
        return this.config.scheduler.syncIntervalSeconds * 1000;
      case CLEANUP_JOB:
        return this.config.scheduler.cleanupIntervalMinutes * 60_000;
    }
  }

  /** The tick under the job's lease, which stops it at shutdown or once another instance may have taken the job over. */
  private async runUnderLease(name: JobName): Promise<TickOutcome> {
    // Both jobs call GitHub: a tick now would only be refused, or spend what is left of the budget.
    const waitMs = await this.githubBudget.waitMs();
    if (waitMs > 0) {
      this.logger.warn(`${name}: skipped, GitHub's rate limit says wait ${Math.ceil(waitMs / 1000)} s more`);
      this.metrics.reconciliationRuns.inc({ job: name, outcome: 'skipped' });
      return 'rate-limited';
    }
    const started = Date.now();
    try {
      const run = await this.jobs.runExclusive(
        name,
        this.holder,
        { minGapMs: this.intervalMs(name) * MIN_GAP_SHARE, stop: this.stopping.signal },
        async (signal) => {
          this.metrics.schedulerLeaseHeld.set({ job: name }, 1);
          try {
            return await this.runJob(name, signal);
          } finally {
            this.metrics.schedulerLeaseHeld.set({ job: name }, 0);
          }
        },
      );
      if (!run.ran) return 'not-due';
      this.logger.log(`${name} done in ${Date.now() - started} ms: ${run.result.summary}`);
      // A run stopped early (shutdown, a lost lease) did not do the job: not a success.
      this.metrics.reconciliationRuns.inc({ job: name, outcome: run.result.complete ? 'succeeded' : 'stopped' });
      if (run.result.complete) this.metrics.reconciliationLastSuccess.set({ job: name }, Date.now() / 1000);
      this.metrics.reconciliationDuration.observe({ job: name }, (Date.now() - started) / 1000);
      return 'ran';
    } catch (error) {
      // The next tick tries again; the service method already wrote what it knew to the audit trail.
      this.logger.error(`${name} failed: ${(error as Error).message}`);
      this.metrics.reconciliationRuns.inc({ job: name, outcome: 'failed' });
      return 'failed';
    }
  }
}

function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}
