import { Command, CommandRunner, Option } from 'nest-commander';
import { Actor } from '../auth/actor.js';
import { GithubSyncService } from '../runners/reconciliation/github-sync.service.js';
import type { RunnerChangeReport, SyncReport } from '../runners/reconciliation/reconciliation-report.js';
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
  description: "Update every runner's status from GitHub's complete list of the org's runners",
})
export class SyncGithubCommand extends CommandRunner {
  constructor(
    private readonly sync: GithubSyncService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: SyncGithubOptions): Promise<void> {
    await this.schema.requireReady();
    const report = await this.sync.syncWithGithub(Actor.system('cli'), {
      onProgress: (message) => this.output.progress(message),
    });
    if (options.json) {
      this.output.json(report);
      return;
    }
    this.output.table(HEADERS, report.changes.map(toRow), 'No runner changed status.');
    this.output.line(summarize(report));
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
  return (
    `Synced with GitHub in ${formatDuration(report.duration_ms)}: ` +
    `${plural(report.github_runners, 'runner')} on GitHub (${plural(report.list_requests, 'list request')}), ` +
    `${report.checked} of ours checked, ${parts.join(', ')}.`
  );
}
