import { Command, CommandRunner, Option } from 'nest-commander';
import { AuditService } from '../audit/audit.service.js';
import { writeFileAtomically } from './atomic-file.js';
import { type TextSink, writeJsonArray } from './json-array.js';
import { parseEventType, parseInstant, parseNonBlank, parseWholeNumber } from './option-parsers.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const EXPORT_AUDIT_LOG_COMMAND = 'export-audit-log';

/** A progress line on stderr after every this many events. */
const PROGRESS_EVERY = 10_000;

interface ExportAuditLogOptions {
  since?: Date;
  eventType?: string;
  limit?: number;
  user?: string;
  output?: string;
  json?: boolean;
}

@Command({
  name: EXPORT_AUDIT_LOG_COMMAND,
  description: 'Export audit events as a JSON array, newest first, to a file (--output) or stdout',
})
export class ExportAuditLogCommand extends CommandRunner {
  constructor(
    private readonly audit: AuditService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ExportAuditLogOptions): Promise<void> {
    await this.schema.requireReady();
    const events = this.audit.exportEvents({
      since: options.since,
      eventType: options.eventType,
      user: options.user,
      limit: options.limit,
    });
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

  @Option({ flags: '--output <file>', description: 'Write the JSON array to this file (replaced whole, or left as it was on failure)' })
  parseOutput(value: string): string {
    return parseNonBlank(value, 'a file name, e.g. --output audit-report.json');
  }

  @Option({ flags: '--json', description: 'With --output: print the result as JSON (without --output the output is JSON already)' })
  parseJson(): boolean {
    return true;
  }
}
