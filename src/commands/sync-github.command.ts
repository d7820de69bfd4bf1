import { Command, CommandRunner, Option } from 'nest-commander';
import { Actor } from '../auth/actor.js';
import { GithubSyncService } from '../runners/reconciliation/github-sync.service.js';
import type { RunnerChangeReport, SyncReport } from '../runners/reconciliation/reconciliation-report.js';
import { CliJobLease } from './cli-job-lease.service.js';
import { CommandFailedError, StoppedEarlyError } from './cli-errors.js';
import { formatDuration, orDash, plural } from './format.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const SYNC_GITHUB_COMMAND = 'sync-github';

interface SyncGithubOptions {
  json?: boolean;
}

const HEADERS = ['NAME', 'OWNER', 'GITHUB ID', 'FROM', 'TO', 'REASON'];

@Command({
  name: SYNC_GITHUB_COMMAND,
  description:
    "Update every runner's status from GitHub's complete list of the org's runners, and report the runners this service did not issue",
})
export class SyncGithubCommand extends CommandRunner {
  constructor(
    private readonly sync: GithubSyncService,
    private readonly lease: CliJobLease,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: SyncGithubOptions): Promise<void> {
    await this.schema.requireReady();
    const report = await this.lease.run(SYNC_GITHUB_COMMAND, { json: options.json ?? false }, (signal) =>
      this.sync.syncWithGithub(Actor.system('cli'), { signal, onProgress: (message) => this.output.progress(message) }),
    );
    if (options.json) {
      this.output.json(report);
    } else {
      this.output.table(HEADERS, report.changes.map(toRow), 'No runner changed status.');
      this.output.line(summarize(report));
      const foreign = describeForeign(report);
      if (foreign) this.output.line(foreign);
    }
    if (report.stopped_early) {
      throw new StoppedEarlyError(
        report.listing_complete
          ? 'Stopped early, between two batches: what is reported was done, the rest was not started; run sync-github again to finish'
          : "Stopped early, before GitHub's list was complete: nothing was changed",
      );
    }
    const failed = report.foreign.failed.length;
    if (failed > 0) {
      throw new CommandFailedError(`${plural(failed, 'foreign runner')} could not be removed (see above); the next sync tries again`);
    }
  }

  @Option({ flags: '--json', description: 'Print the report as JSON' })
  parseJson(): boolean {
    return true;
  }
}

function toRow(change: RunnerChangeReport): string[] {
  return [change.runner_name, change.owner, orDash(change.github_runner_id), change.from, change.to, change.reason];
}

function summarize(report: SyncReport): string {
  if (!report.listing_complete) return `Sync stopped before GitHub's list was complete (${formatDuration(report.duration_ms)}): nothing was changed.`;
  const parts = [`${report.updated} updated`, `${report.deleted} marked deleted`];
  if (report.waiting > 0) parts.push(`${report.waiting} pending within the grace period or still being provisioned`);
  if (report.abandoned > 0) parts.push(`${report.abandoned} whose request never finished closed as failed`);
  if (report.withdrawn > 0) parts.push(`${report.withdrawn} never handed out and never started removed`);
  if (report.unconfirmed > 0) parts.push(`${report.unconfirmed} GitHub could not be asked about, left for the next sync`);
  if (report.skipped > 0) parts.push(`${report.skipped} changed meanwhile, left for the next sync`);
  if (report.not_ours.length > 0) {
    const names = report.not_ours.map((item) => item.runner_name).join(', ');
    parts.push(`${report.not_ours.length} whose name another runner on GitHub holds (left alone: ${names})`);
  }
  const summary =
    `Synced with GitHub in ${formatDuration(report.duration_ms)}: ` +
    `${plural(report.github_runners, 'runner')} on GitHub (${plural(report.list_requests, 'list request')}), ` +
    `${report.checked} of ours checked, ${parts.join(', ')}.`;
  return report.stopped_early ? `Stopped early. ${summary}` : summary;
}

/** `3 foreign runners on GitHub (not issued by this service; 1 new, 1 removed): see list-runners --foreign.`, or nothing. */
function describeForeign(report: SyncReport): string | undefined {
  const { total, new: fresh, removed, failed } = report.foreign;
  if (total === 0) return undefined;
  const parts = [`${fresh.length} new`];
  if (report.foreign.policy === 'remove') parts.push(`${removed.length} removed`);
  if (failed.length > 0) parts.push(`${failed.length} could not be removed`);
  return `${plural(total, 'foreign runner')} on GitHub (not issued by this service; ${parts.join(', ')}): see list-runners --foreign.`;
}
