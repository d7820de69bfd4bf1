import { Inject, Injectable } from '@nestjs/common';
import { toAuditCloudEvent, toCloudEventLine } from '../audit/audit-cloud-event.js';
import { type AuditExportFilter, type AuditPosition, AuditService } from '../audit/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AuditCursorFile } from './audit-cursor-file.js';
import { CliOutput } from './cli-output.service.js';
import { AppendOnlyFile } from './durable-write.js';
import { plural } from './format.js';

/** A progress line on stderr after every this many events. */
const PROGRESS_EVERY = 10_000;
/** The signals that end --follow cleanly: Ctrl-C, and what service managers send. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export interface CloudEventsExportOptions {
  /** Append to this file instead of writing to stdout. */
  output?: string;
  /** Resume after the position stored here, and store it after every batch. */
  cursorFile?: string;
  /** Keep writing new events, reading every intervalMs, until SIGINT or SIGTERM. */
  follow?: { intervalMs: number };
  /** With `output`: the summary as JSON. */
  json?: boolean;
}

/**
 * `export-audit-log --format cloudevents`: one CloudEvent a line, oldest first, to stdout or
 * appended to a file. A batch is written and flushed before its position is stored, so a restart
 * never skips an event: after a clean stop (SIGINT, SIGTERM) it writes each event exactly once;
 * after a kill between a batch and its position, that batch again (at least once, same ids).
 */
@Injectable()
export class CloudEventsExport {
  constructor(
    private readonly audit: AuditService,
    private readonly output: CliOutput,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(filter: AuditExportFilter, options: CloudEventsExportOptions): Promise<void> {
    const cursor = options.cursorFile === undefined ? undefined : new AuditCursorFile(options.cursorFile);
    const after = await cursor?.read();
    if (after !== undefined && (await this.audit.isAfterNow(after))) {
      throw new Error(
        `The cursor file ${cursor?.path} holds a position after the database's current time (${after.occurredAt}), ` +
          'so it was not written by an export of this database: restore the right file, or remove it to start from --since (or the beginning)',
      );
    }
    const file = options.output === undefined ? undefined : await AppendOnlyFile.open(options.output);
    const write = file ? (text: string) => file.write(text) : (text: string) => this.output.writeDurably(text);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    if (options.follow) {
      for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
      this.output.progress(`Following audit events ${describeStart(after, cursor, filter)}, reading every ${options.follow.intervalMs / 1000} s; stop with Ctrl-C or SIGTERM`);
    }
    const source = this.config.audit.eventSource;
    let exported = 0;
    try {
      const batches = this.audit.streamEvents(filter, {
        after,
        // A reader that keeps its place must never move past an event that commits late.
        settled: cursor !== undefined || options.follow !== undefined,
        follow: options.follow && { intervalMs: options.follow.intervalMs, signal: stop.signal },
        onHold: (reason) => this.output.progress(reason === null ? 'Events are written again as they are recorded' : `Waiting: ${reason}`),
      });
      for await (const batch of batches) {
        await write(batch.events.map((event) => toCloudEventLine(toAuditCloudEvent(event, source))).join(''));
        await cursor?.write(batch.last);
        const before = exported;
        exported += batch.events.length;
        if (Math.floor(exported / PROGRESS_EVERY) > Math.floor(before / PROGRESS_EVERY)) {
          this.output.progress(`${exported} audit events exported so far…`);
        }
      }
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      await file?.close();
    }
    if (options.follow) this.output.progress(`Stopped after ${plural(exported, 'audit event')}`);
    if (file === undefined) return;
    if (options.json) {
      this.output.json({ exported, output: file.path });
    } else {
      this.output.line(`Appended ${plural(exported, 'audit event')} to ${file.path}`);
    }
  }
}

function describeStart(after: AuditPosition | undefined, cursor: AuditCursorFile | undefined, filter: AuditExportFilter): string {
  if (after !== undefined) return `after the position in ${cursor?.path} (${after.occurredAt})`;
  if (filter.since !== undefined) return `from ${filter.since.toISOString()}`;
  return 'from the beginning of the trail';
}
