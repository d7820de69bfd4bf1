import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import { Actor } from '../auth/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { StaleCleanupService } from '../runners/reconciliation/stale-cleanup.service.js';
import type { CleanupReport, RunnerChangeReport } from '../runners/reconciliation/reconciliation-report.js';
import { CliJobLease } from './cli-job-lease.service.js';
import { CommandFailedError, StoppedEarlyError } from './cli-errors.js';
import { formatDuration, orDash, plural } from './format.js';
import { parseWholeNumber } from './option-parsers.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const CLEANUP_STALE_RUNNERS_COMMAND = 'cleanup-stale-runners';

interface CleanupStaleRunnersOptions {
  hours?: number;
  dryRun?: boolean;
  json?: boolean;
}

const HEADERS = ['NAME', 'OWNER', 'STATUS', 'GITHUB ID', 'RESULT', 'REASON'];

@Command({
  name: CLEANUP_STALE_RUNNERS_COMMAND,
  description:
    "Remove this service's JIT runners that never started by their expires_at, and its runners that stayed pending or offline for " +
    'longer than --hours, from GitHub and then from the active set',
})
export class CleanupStaleRunnersCommand extends CommandRunner {
  constructor(
    private readonly cleanup: StaleCleanupService,
    private readonly lease: CliJobLease,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async run(_args: string[], options: CleanupStaleRunnersOptions): Promise<void> {
    await this.schema.requireReady();
    const cleanup = (signal?: AbortSignal) =>
      this.cleanup.cleanupStaleRunners(Actor.system('cli'), {
        hours: options.hours ?? this.config.runners.staleRunnerHours,
        dryRun: options.dryRun ?? false,
        onProgress: (message) => this.output.progress(message),
        signal,
      });
    // A dry run changes nothing: it needs no lease, and runs beside a cleanup under way.
    const report = options.dryRun
      ? await cleanup()
      : await this.lease.run(CLEANUP_STALE_RUNNERS_COMMAND, { json: options.json ?? false }, cleanup);
    if (options.json) {
      this.output.json(report);
    } else {
      const rows = toRows(report);
      // With nothing stale the summary line says all there is.
      if (rows.length > 0) this.output.table(HEADERS, rows);
      this.output.line(summarize(report));
      const suspended = report.suspended;
      if (suspended && suspended.removed.length + suspended.busy.length + suspended.failed.length > 0) {
        this.output.line(
          `Runners of suspended identities or rules: ${suspended.removed.length} removed, ` +
            `${suspended.busy.length} left because busy, ${suspended.failed.length} failed.`,
        );
      }
      const marked = report.marked_for_removal;
      if (marked && marked.removed.length + marked.busy.length + marked.failed.length > 0) {
        this.output.line(
          `Runners marked for removal (bind_to_run runners that took another run's job): ${marked.removed.length} removed, ` +
            `${marked.busy.length} left because busy, ${marked.failed.length} failed.`,
        );
      }
    }
    if (report.stopped_early) {
      throw new StoppedEarlyError(
        'Stopped early, between two runners: those reported were removed, the others were not touched; run cleanup-stale-runners again to finish',
      );
    }
    const failed = report.failed.length + (report.suspended?.failed.length ?? 0) + (report.marked_for_removal?.failed.length ?? 0);
    if (failed > 0) {
      throw new CommandFailedError(`${plural(failed, 'runner')} could not be removed (see above); run the command again later`);
    }
  }

  @Option({
    flags: '--hours <hours>',
    description: 'Stale after this many hours pending or offline (default: STALE_RUNNER_HOURS, 24)',
  })
  parseHours(value: string): number {
    return parseWholeNumber(value, 1, '--hours 24');
  }

  @Option({ flags: '--dry-run', description: 'Show what would be removed; change nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print the report as JSON' })
  parseJson(): boolean {
    return true;
  }
}

function toRows(report: CleanupReport): string[][] {
  const row = (change: RunnerChangeReport, result: string, reason = change.reason) => [
    change.runner_name,
    change.owner,
    change.from,
    orDash(change.github_runner_id),
    result,
    reason,
  ];
  return [
    ...report.deleted.map((change) => row(change, report.dry_run ? 'would be deleted' : 'deleted')),
    ...report.skipped_busy.map((change) => row(change, 'skipped: busy')),
    ...report.failed.map((change) => row(change, 'failed', `${change.reason}: ${change.error}`)),
  ];
}

function summarize(report: CleanupReport): string {
  const criterion = `pending or offline for more than ${plural(report.hours, 'hour')}`;
  const found = report.stale + report.never_started;
  if (found === 0) return `No runner was ${criterion}.`;
  const parts = report.dry_run
    ? [`${report.deleted.length} would be deleted`, `${report.skipped_busy.length} would be skipped because busy`]
    : [
        `${report.deleted.length} deleted`,
        `${report.skipped_busy.length} skipped because busy`,
        `${report.failed.length} failed`,
      ];
  // A runner GitHub shows online after all, or one another request changed meanwhile, is left alone.
  const left = found - report.deleted.length - report.skipped_busy.length - report.failed.length;
  if (!report.dry_run && !report.stopped_early && left > 0) parts.push(`${left} left as they were (online on GitHub, or changed meanwhile)`);
  if (report.stopped_early) parts.push(`${left} not reached or left as they were (stopped early)`);
  const neverStarted =
    report.never_started > 0 ? ` and ${plural(report.never_started, 'JIT runner')} not started by its expires_at` : '';
  const duration = formatDuration(report.duration_ms);
  const summary = `${plural(report.stale, 'stale runner')} (${criterion})${neverStarted}: ${parts.join(', ')} (${duration}).`;
  return report.dry_run ? `Dry run, nothing changed. ${summary}` : summary;
}
