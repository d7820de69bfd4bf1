import { Injectable, Logger } from '@nestjs/common';

/** A self-hosted runner of the org, not created by this service, seen taking a job. */
export interface ForeignRunnerSighting {
  githubRunnerId: number;
  runnerName: string | null;
  runnerGroupName: string | null;
  /** The repository (owner/name) whose job it took. */
  repository: string;
  jobId: number;
  seenAt: Date;
}

/** A runner is named in the log at most once in this long, per process. */
const WARN_INTERVAL_MS = 60 * 60_000;
/** Runners remembered for that; past it the memory starts over (a few more lines, never more memory). */
const MAX_REMEMBERED = 10_000;

/**
 * Where workflow_job events report runners of the org that this service did not create: a
 * line at warn, once an hour per runner. The foreign-runner report (src/runners/reconciliation)
 * is the place to record them; reportSeenInJob is the one call to wire to it.
 */
@Injectable()
export class ForeignRunnerSignals {
  private readonly logger = new Logger(ForeignRunnerSignals.name);
  private readonly lastWarnedAt = new Map<number, number>();

  reportSeenInJob(sighting: ForeignRunnerSighting): void {
    const now = sighting.seenAt.getTime();
    const last = this.lastWarnedAt.get(sighting.githubRunnerId);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
    if (this.lastWarnedAt.size >= MAX_REMEMBERED) this.lastWarnedAt.clear();
    this.lastWarnedAt.set(sighting.githubRunnerId, now);
    this.logger.warn(
      {
        foreign_runner: {
          github_runner_id: sighting.githubRunnerId,
          runner_name: sighting.runnerName,
          runner_group: sighting.runnerGroupName,
          repository: sighting.repository,
          job_id: sighting.jobId,
        },
      },
      `Runner ${sighting.runnerName ?? '?'} (GitHub id ${sighting.githubRunnerId}) took job ${sighting.jobId} of ${sighting.repository}, ` +
        'and this service did not create it',
    );
  }
}
