import { resolve } from 'node:path';
import { Command, CommandRunner, Option } from 'nest-commander';
import { type AuditExportFilter, AuditService } from '../audit/audit.service.js';
import { writeFileAtomically } from './atomic-file.js';
import { UsageError } from './cli-errors.js';
import { CloudEventsExport } from './cloud-events-export.service.js';
import { type TextSink, writeJsonArray } from './json-array.js';
import { parseChoice, parseEventType, parseInstant, parseNonBlank, parseSeconds, parseWholeNumber } from './option-parsers.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const EXPORT_AUDIT_LOG_COMMAND = 'export-audit-log';
/** json: one array, newest first (the default). cloudevents: one CloudEvents 1.0 JSON object a line, oldest first. */
export const AUDIT_EXPORT_FORMATS = ['json', 'cloudevents'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];
/** --follow reads this often unless --interval says otherwise. */
export const DEFAULT_FOLLOW_INTERVAL_SECONDS = 1;
const FOLLOW_INTERVAL_RANGE = { min: 0.1, max: 3600 };

/** A progress line on stderr after every this many events. */
const PROGRESS_EVERY = 10_000;

interface ExportAuditLogOptions {
  since?: Date;
  until?: Date;
  eventType?: string;
  limit?: number;
  user?: string;
  output?: string;
  json?: boolean;
  format?: AuditExportFormat;
  follow?: boolean;
  cursorFile?: string;
  interval?: number;
}

@Command({
  name: EXPORT_AUDIT_LOG_COMMAND,
  description:
    'Export audit events as a JSON array, newest first, to a file (--output) or stdout; or, with --format cloudevents, ' +
    'as one CloudEvent a line, oldest first, appended to --output or written to stdout, following new events with --follow',
})
export class ExportAuditLogCommand extends CommandRunner {
  constructor(
    private readonly audit: AuditService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
    private readonly cloudEvents: CloudEventsExport,
  ) {
    super();
  }

  async run(_args: string[], options: ExportAuditLogOptions): Promise<void> {
    checkCombination(options);
    await this.schema.requireReady();
    const filter: AuditExportFilter = { since: options.since, until: options.until, eventType: options.eventType, user: options.user };
    if (options.format === 'cloudevents') {
      const intervalSeconds = options.interval ?? DEFAULT_FOLLOW_INTERVAL_SECONDS;
      await this.cloudEvents.run(filter, {
        output: options.output,
        cursorFile: options.cursorFile,
        follow: options.follow ? { intervalMs: intervalSeconds * 1000 } : undefined,
        json: options.json,
      });
      return;
    }
    const events = this.audit.exportEvents({ ...filter, limit: options.limit });
    const file = options.output;
    if (file === undefined) {
      await writeJsonArray(events, (chunk) => this.output.write(chunk), (count) => this.reportProgress(count));
      return;
    }
    const exported = await writeFileAtomically(file, (write: TextSink) =>
      writeJsonArray(events, write, (count) => this.reportProgress(count)),
    );
    if (options.json) {
      this.output.json({ exported, output: file });
    } else {
      this.output.line(`Exported ${exported} audit events to ${file}`);
    }
  }

  private reportProgress(count: number): void {
    if (count % PROGRESS_EVERY === 0) this.output.progress(`${count} audit events exported so far…`);
  }

  @Option({ flags: '--since <date>', description: 'Events at or after this date (2026-01-01 means midnight UTC) or ISO date-time' })
  parseSince(value: string): Date {
    return parseInstant(value, '--since');
  }

  @Option({ flags: '--until <date>', description: 'Events before this date (2026-02-01 means midnight UTC) or ISO date-time' })
  parseUntil(value: string): Date {
    return parseInstant(value, '--until');
  }

  @Option({
    flags: '--event-type <type>',
    description: 'Events of this action, or of actions starting with it and "_" (provision: provision and provision_jit)',
  })
  parseEventType(value: string): string {
    return parseEventType(value);
  }

  @Option({ flags: '--limit <n>', description: 'Only the newest n events' })
  parseLimit(value: string): number {
    return parseWholeNumber(value, 1, '--limit 50');
  }

  @Option({ flags: '--user <user>', description: "Events of this actor (their name, e.g. an email, or their subject)" })
  parseUser(value: string): string {
    return parseNonBlank(value, 'the actor name or subject, e.g. --user alice@example.com');
  }

  @Option({
    flags: '--output <file>',
    description:
      'Write to this file: the JSON array replaces it whole (or leaves it as it was on failure); cloudevents lines are appended to it',
  })
  parseOutput(value: string): string {
    return parseNonBlank(value, 'a file name, e.g. --output audit-report.json');
  }

  @Option({ flags: '--json', description: 'With --output: print the result as JSON (without --output the output is JSON already)' })
  parseJson(): boolean {
    return true;
  }

  @Option({ flags: '--format <format>', description: `${AUDIT_EXPORT_FORMATS.join(' or ')} (default json)` })
  parseFormat(value: string): AuditExportFormat {
    return parseChoice(value, AUDIT_EXPORT_FORMATS);
  }

  @Option({ flags: '--follow', description: 'With --format cloudevents: keep writing events as they are recorded, until SIGINT or SIGTERM' })
  parseFollow(): boolean {
    return true;
  }

  @Option({
    flags: '--cursor-file <file>',
    description: 'With --format cloudevents: resume after the last event written, whose position is stored in this file after every batch',
  })
  parseCursorFile(value: string): string {
    return parseNonBlank(value, 'a file name, e.g. --cursor-file /var/lib/rts/audit.cursor');
  }

  @Option({ flags: '--interval <seconds>', description: `With --follow: seconds between two reads (default ${DEFAULT_FOLLOW_INTERVAL_SECONDS})` })
  parseInterval(value: string): number {
    return parseSeconds(value, FOLLOW_INTERVAL_RANGE, '--interval 1 or --interval 0.5');
  }
}

/** Options that are fine alone but not together: bad usage, found before the database is touched. */
function checkCombination(options: ExportAuditLogOptions): void {
  const streaming = options.follow || options.cursorFile !== undefined || options.interval !== undefined;
  if (options.format !== 'cloudevents' && streaming) {
    throw new UsageError('--follow, --cursor-file and --interval write one event a line: use them with --format cloudevents.');
  }
  if (options.interval !== undefined && !options.follow) {
    throw new UsageError('--interval sets how often --follow reads: add --follow, or leave --interval out.');
  }
  if (options.follow && options.until !== undefined) {
    throw new UsageError('--follow keeps writing events as they are recorded, and --until ends the export at a date: give one of them.');
  }
  if (options.format === 'cloudevents' && options.limit !== undefined) {
    throw new UsageError('--limit keeps the newest events of a JSON export; with --format cloudevents choose the start with --since or --cursor-file.');
  }
  if (options.output !== undefined && options.cursorFile !== undefined && resolve(options.output) === resolve(options.cursorFile)) {
    throw new UsageError('--output and --cursor-file must name two different files.');
  }
}
