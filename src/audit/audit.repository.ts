import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { Transaction } from '../database/transactions.service.js';
import { AuditEventEntity } from './audit-event.entity.js';

/** An event as it is written: everything but the id and the time, which the database sets. */
export type NewAuditEvent = Omit<AuditEventEntity, 'id' | 'occurredAt'>;

/**
 * An INSERT of audit events as SQL, to run as part of the statement that makes the change they
 * describe (`WITH changed AS (UPDATE … RETURNING …), recorded AS (<sql>) …`): one round trip, and the
 * change and its event commit together or not at all. `sql` numbers its parameters from the
 * `firstParam` it was built with.
 */
export interface AuditStatement {
  sql: string;
  params: unknown[];
}

/** The columns an event is written with, in the order insertStatement gives their values. */
const EVENT_COLUMNS =
  '"actor", "actor_issuer", "actor_subject", "action", "outcome", "runner_id", "runner_name", "request_id", "source_ip", "details"';

/** Which events an export holds. Every field narrows it; none set means the whole trail. */
export interface AuditExportFilter {
  /** Events at or after this instant. */
  since?: Date;
  /** An action (`provision_jit`), or a prefix before `_` (`provision` also matches `provision_jit`). */
  eventType?: string;
  /** The actor's display name or subject. */
  user?: string;
  /** Only the newest this many. */
  limit?: number;
}

/** The audit trail's queries: appends inside the caller's transaction, the export's reads, and the prune. */
@Injectable()
export class AuditRepository {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Writes the events in one INSERT, in `tx`: they commit or roll back with the change they describe. */
  async insert(tx: Transaction, events: NewAuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await tx.save(tx.create(AuditEventEntity, events));
  }

  /**
   * The INSERT of `event` once per row of `source` (the name of a data-modifying CTE of the same
   * statement): no row changed, no event.
   */
  insertStatement(event: NewAuditEvent, firstParam: number, source: string): AuditStatement {
    const params = [
      event.actor,
      event.actorIssuer,
      event.actorSubject,
      event.action,
      event.outcome,
      event.runnerId,
      event.runnerName,
      event.requestId,
      event.sourceIp,
      JSON.stringify(event.details),
    ];
    const values = params.map((_, i) => `$${firstParam + i}`);
    values[5] += '::uuid';
    values[9] += '::jsonb';
    return { sql: `INSERT INTO "audit_events" (${EVENT_COLUMNS}) SELECT ${values.join(', ')} FROM ${source}`, params };
  }

  /** Whether the runner has an event of `action` with an outcome other than 'attempted', through `tx`. */
  async hasOutcome(tx: Transaction, runnerId: string, action: string): Promise<boolean> {
    const [{ found }]: { found: boolean }[] = await tx.query(
      `SELECT EXISTS (SELECT 1 FROM audit_events WHERE runner_id = $1 AND action = $2 AND outcome <> 'attempted') AS "found"`,
      [runnerId, action],
    );
    return found;
  }

  /** How many events happened before `cutOff`: what a prune would remove. */
  async countBefore(tx: Transaction, cutOff: Date): Promise<number> {
    const [{ count }]: { count: string }[] = await tx.query(
      `SELECT count(*) AS "count" FROM audit_events WHERE occurred_at < $1`,
      [cutOff],
    );
    return Number(count);
  }

  /**
   * Removes the events before `cutOff` through prune_audit_events, the one way past the table's
   * append-only trigger (the connection's role needs EXECUTE on it), and answers how many.
   */
  async pruneBefore(tx: Transaction, cutOff: Date): Promise<number> {
    const [{ removed }]: { removed: string }[] = await tx.query(`SELECT prune_audit_events($1) AS "removed"`, [cutOff]);
    return Number(removed);
  }

  /**
   * One page of matching events, newest first (ties on time broken by id), after the event
   * `afterId` when given. The cursor is compared in SQL against that event's stored time: a time
   * taken through a JS Date would lose PostgreSQL's microseconds and skip or repeat events.
   */
  listNewestFirst(filter: AuditExportFilter, page: { afterId?: string; take: number }): Promise<AuditEventEntity[]> {
    const query = this.events.createQueryBuilder('event');
    if (filter.since !== undefined) query.andWhere('event.occurred_at >= :since', { since: filter.since });
    if (filter.eventType !== undefined) {
      query.andWhere('(event.action = :eventType OR starts_with(event.action, :eventTypePrefix))', {
        eventType: filter.eventType,
        eventTypePrefix: `${filter.eventType}_`,
      });
    }
    if (filter.user !== undefined) {
      query.andWhere('(event.actor = :user OR event.actor_subject = :user)', { user: filter.user });
    }
    if (page.afterId !== undefined) {
      query.andWhere(
        '(event.occurred_at, event.id) < (SELECT cursor_event.occurred_at, cursor_event.id FROM audit_events cursor_event WHERE cursor_event.id = :afterId)',
        { afterId: page.afterId },
      );
    }
    return query.orderBy('event.occurred_at', 'DESC').addOrderBy('event.id', 'DESC').limit(page.take).getMany();
  }
}
