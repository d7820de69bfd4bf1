import { Command, CommandRunner, Option } from 'nest-commander';
import { type AuditPruneReport, AuditService } from '../audit/audit.service.js';
import { Actor } from '../auth/actor.js';
import { plural } from './format.js';
import { parsePastInstant } from './option-parsers.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const PRUNE_AUDIT_LOG_COMMAND = 'prune-audit-log';

interface PruneAuditLogOptions {
  before: Date;
  dryRun?: boolean;
  json?: boolean;
}

@Command({
  name: PRUNE_AUDIT_LOG_COMMAND,
  description:
    'Remove audit events older than --before (retention), through prune_audit_events: the database role needs EXECUTE on it',
})
export class PruneAuditLogCommand extends CommandRunner {
  constructor(
    private readonly audit: AuditService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: PruneAuditLogOptions): Promise<void> {
    await this.schema.requireReady();
    const report = await this.audit.pruneEvents(Actor.system('cli'), { cutOff: options.before, dryRun: options.dryRun ?? false });
    if (options.json) {
      this.output.json(report);
    } else {
      this.output.line(summarize(report));
    }
  }

  @Option({
    flags: '--before <date>',
    description: 'Remove the events before this date (2026-01-01 means midnight UTC) or ISO date-time; not in the future',
    required: true,
  })
  parseBefore(value: string): Date {
    return parsePastInstant(value, '--before');
  }

  @Option({ flags: '--dry-run', description: 'Say how many events would be removed; change nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print the result as JSON' })
  parseJson(): boolean {
    return true;
  }
}

function summarize(report: AuditPruneReport): string {
  const events = plural(report.removed, 'audit event');
  return report.dry_run
    ? `Dry run, nothing changed. ${events} before ${report.before} would be removed.`
    : `Removed ${events} before ${report.before}.`;
}
