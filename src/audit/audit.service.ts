import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { decodeCursor, encodeCursor } from '../common/page-cursor.js';
import { type Transaction, Transactions } from '../database/transactions.service.js';
import type { AuditOutcome } from './audit-event.entity.js';
import { type AuditEventExportDto, toAuditEventExport } from './audit-event-export.dto.js';
import { type AuditExportFilter, type AuditPosition, AuditRepository, type AuditStatement, type NewAuditEvent } from './audit.repository.js';

export type { AuditExportFilter, AuditPosition, AuditStatement } from './audit.repository.js';

/** Events read per query during an export: memory stays flat however long the trail is. */
export const EXPORT_BATCH_SIZE = 500;
/**
 * A settled read stops this far before the start of the oldest open transaction (or the clock):
 * room for a transaction that has begun but does not show in pg_stat_activity yet.
 */
export const SETTLE_MARGIN_MS = 1_000;
/** A transaction open this long is named on the status line: it holds back every newer event. */
export const LONG_TRANSACTION_MS = 60_000;

/** Events in the trail's order, and the position of the last: what a reader that resumes stores. */
export interface AuditEventBatch {
  events: AuditEventExportDto[];
  last: AuditPosition;
}

export interface AuditStreamOptions {
  /** Continue strictly after this position (a stored cursor). */
  after?: AuditPosition;
  /**
   * Read only events that can no longer be joined by older ones (see AuditRepository.readHorizon):
   * for a reader that stores its position, which must never pass an event that commits late.
   */
  settled: boolean;
  /** Keep reading every `intervalMs` until `signal` aborts. */
  follow?: { intervalMs: number; signal: AbortSignal };
  /** Why events are held back, when that changes (null once they flow again). */
  onHold?: (reason: string | null) => void;
}

/** The audit action of a prune: written after it, so it is never among the events it removes. */
export const PRUNE_AUDIT_ACTION = 'prune_audit_log';

/** What `pruneEvents` did, or with `dry_run` would do: the events before `before` are `removed`. */
export interface AuditPruneReport {
  before: string;
  dry_run: boolean;
  removed: number;
}

/** One page of audit events; the caller adds the link to the next page. */
export interface AuditEventPage {
  events: AuditEventExportDto[];
  next_cursor: string | null;
}

export interface AuditRecord {
  action: string;
  outcome: AuditOutcome;
  runnerId?: string | null;
  runnerName?: string | null;
  details?: Record<string, unknown>;
}

/** SHA-256 of a credential: enough to match a leaked secret against the trail, useless to an attacker. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/**
 * The audit trail. `record` writes through the caller's transaction, so an event commits with the
 * change it describes, and a failing audit insert fails the change.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    private readonly transactions: Transactions,
  ) {}

  async record(tx: Transaction, actor: Actor, event: AuditRecord): Promise<void> {
    await this.events.insert(tx, [this.toRow(actor, event)]);
  }

  /**
   * `event` as SQL for the statement that makes the change it describes, written once per row of
   * `source` (that statement's CTE of changed rows), parameters numbered from `firstParam`.
   */
  statement(actor: Actor, event: AuditRecord, firstParam: number, source: string): AuditStatement {
    return this.events.insertStatement(this.toRow(actor, event), firstParam, source);
  }

  /** An event that goes with no change of state (a refusal, a failure, a summary), in its own transaction. */
  async recordAlone(actor: Actor, event: AuditRecord): Promise<void> {
    await this.transactions.run((tx) => this.record(tx, actor, event));
  }

  /**
   * Whether the attempt that reserved `runnerId` under `action` has its closing event (succeeded,
   * denied or failed), as seen through `tx`: a late closer writes none when another closed it first.
   */
  hasClosingEvent(tx: Transaction, runnerId: string, action: string): Promise<boolean> {
    return this.events.hasOutcome(tx, runnerId, action);
  }

  /** Many events of one actor in one INSERT, through the caller's transaction (a sync's batch). */
  async recordMany(tx: Transaction, actor: Actor, events: AuditRecord[]): Promise<void> {
    await this.events.insert(tx, events.map((event) => this.toRow(actor, event)));
  }

  private toRow(actor: Actor, event: AuditRecord): NewAuditEvent {
    return {
      actor: actor.name,
      actorIssuer: actor.issuer,
      actorSubject: actor.subject,
      action: event.action,
      outcome: event.outcome,
      runnerId: event.runnerId ?? null,
      runnerName: event.runnerName ?? null,
      requestId: actor.requestId ?? null,
      sourceIp: actor.sourceIp ?? null,
      details: event.details ?? {},
    };
  }

  /**
   * Removes the events that happened before `cutOff` (retention), and records the prune, with the
   * cut-off and the count, in the same transaction. A dry run counts them and changes nothing.
   */
  async pruneEvents(actor: Actor, options: { cutOff: Date; dryRun: boolean }): Promise<AuditPruneReport> {
    const { cutOff, dryRun } = options;
    const before = cutOff.toISOString();
    if (dryRun) {
      const removed = await this.transactions.run((tx) => this.events.countBefore(tx, cutOff));
      return { before, dry_run: true, removed };
    }
    return this.transactions.run(async (tx) => {
      const removed = await this.events.pruneBefore(tx, cutOff);
      await this.record(tx, actor, { action: PRUNE_AUDIT_ACTION, outcome: 'succeeded', details: { before, removed } });
      return { before, dry_run: false, removed };
    });
  }

  /**
   * One page of the events that match `filter`, newest first, with the cursor of the next page
   * (`limit` is the page's size; the filter's own limit does not apply). A page continues strictly
   * after the previous page's last event, so events recorded meanwhile never shift a page.
   */
  async listEventsPage(filter: AuditExportFilter, page: { limit: number; cursor?: string }): Promise<AuditEventPage> {
    const afterId = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    // One more than asked tells whether there is a next page.
    const rows = await this.events.listNewestFirst(filter, { afterId, take: page.limit + 1 });
    const events = rows.slice(0, page.limit);
    const nextCursor = rows.length > page.limit ? encodeCursor(events[events.length - 1].id) : null;
    return { events: events.map(toAuditEventExport), next_cursor: nextCursor };
  }

  /**
   * The events that match `filter`, newest first, read in batches of EXPORT_BATCH_SIZE as the
   * caller consumes them. Events recorded while an export runs are newer than its first batch and
   * are not part of it.
   */
  async *exportEvents(filter: AuditExportFilter): AsyncGenerator<AuditEventExportDto> {
    let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
    let afterId: string | undefined;
    while (remaining > 0) {
      const take = Math.min(EXPORT_BATCH_SIZE, remaining);
      const batch = await this.events.listNewestFirst(filter, { afterId, take });
      for (const event of batch) yield toAuditEventExport(event);
      if (batch.length < take) return;
      remaining -= batch.length;
      afterId = batch[batch.length - 1].id;
    }
  }

  /**
   * The events that match `filter`, oldest first, in batches of at most EXPORT_BATCH_SIZE: each
   * batch is read once the caller has taken the previous one, so a caller that stores `last`
   * after writing a batch resumes exactly there. With `follow`, events recorded later come as they
   * commit, until the signal aborts (between two batches, never inside one).
   */
  async *streamEvents(filter: AuditExportFilter, options: AuditStreamOptions): AsyncGenerator<AuditEventBatch> {
    let after = options.after;
    let held: string | null = null;
    const signal = options.follow?.signal;
    while (!signal?.aborted) {
      const horizon = options.settled ? await this.settledHorizon() : { before: undefined, hold: null };
      if (horizon.hold !== held) {
        held = horizon.hold;
        options.onHold?.(held);
      }
      if (horizon.before !== null) {
        for (;;) {
          const page = await this.events.listOldestFirst(filter, { after, before: horizon.before, take: EXPORT_BATCH_SIZE });
          if (page.length > 0) {
            after = page[page.length - 1].position;
            yield { events: page.map((row) => toAuditEventExport(row.event)), last: after };
          }
          if (page.length < EXPORT_BATCH_SIZE || signal?.aborted) break;
        }
      }
      if (options.follow === undefined) return;
      await sleep(options.follow.intervalMs, undefined, { signal: options.follow.signal }).catch(() => undefined);
    }
  }

  /** Whether `position` lies after the database's clock: no event of this trail can be there. */
  isAfterNow(position: AuditPosition): Promise<boolean> {
    return this.events.isAfterNow(position.occurredAt);
  }

  /**
   * Where a settled read stops (`before`, exclusive), or null with the reason when it cannot go on:
   * a session of the service whose transactions this role may not see could commit anything.
   */
  private async settledHorizon(): Promise<{ before: string | null; hold: string | null }> {
    const reading = await this.events.readHorizon(SETTLE_MARGIN_MS);
    if (reading.unseenSessions > 0) {
      return {
        before: null,
        hold:
          `${reading.unseenSessions} session(s) of this service belong to a role whose transactions this database role may not see, ` +
          'so newer events are held back until they close. Run the export as a member of the service\'s role, or grant it pg_read_all_stats',
      };
    }
    const open = reading.oldestOpen;
    return {
      before: reading.horizon,
      hold:
        open !== null && open.ageMs > LONG_TRANSACTION_MS
          ? `a transaction open since ${open.startedAt} (pid ${open.pid}) holds back the events recorded after it began, until it ends`
          : null,
    };
  }
}
