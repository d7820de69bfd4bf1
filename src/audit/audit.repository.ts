import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository, SelectQueryBuilder } from 'typeorm';
import type { SqlFragment } from '../database/sql-fragment.js';
import type { Transaction } from '../database/transactions.service.js';
import { AuditEventEntity } from './audit-event.entity.js';

/** An event as it is written: everything but the id and the time, which the database sets. */
export type NewAuditEvent = Omit<AuditEventEntity, 'id' | 'occurredAt'>;

/**
 * An INSERT of audit events as SQL, to run as part of the statement that makes the change they
 * describe (`WITH changed AS (UPDATE … RETURNING …), recorded AS (<sql>) …`): one round trip, and the
 * change and its event commit together or not at all.
 */
export type AuditStatement = SqlFragment;

/** The columns an event is written with, in the order insertStatement gives their values. */
const EVENT_COLUMNS =
  '"actor", "actor_issuer", "actor_subject", "action", "outcome", "runner_id", "runner_name", "request_id", "source_ip", "details"';

/** Which events an export holds. Every field narrows it; none set means the whole trail. */
export interface AuditExportFilter {
  /** Events at or after this instant. */
  since?: Date;
  /** Events before this instant. */
  until?: Date;
  /** An action (`provision_jit`), or a prefix before `_` (`provision` also matches `provision_jit`). */
  eventType?: string;
  /** The actor's display name or subject. */
  user?: string;
  /** Only the newest this many. */
  limit?: number;
}

/**
 * Where an event stands in the trail's one total order, (occurred_at, id): its time as PostgreSQL
 * holds it, to the microsecond (`2026-01-02T03:04:05.123456Z`; a JS Date would keep milliseconds
 * and repeat or skip events), and its id. Compared by value, so it holds after its event is pruned.
 */
export interface AuditPosition {
  occurredAt: string;
  id: string;
}

/** An event read in the trail's order, with its position. */
export interface PositionedAuditEvent {
  event: AuditEventEntity;
  position: AuditPosition;
}

/** What the database says about the transactions that may still add events (see readHorizon). */
export interface AuditHorizonReading {
  /** The start of the oldest open transaction, or the database's clock when none is open, less the margin. */
  horizon: string;
  /** The oldest open transaction of the service: when it started, how long ago, and its session. */
  oldestOpen: { startedAt: string; ageMs: number; pid: number } | null;
  /** Sessions of the service whose transactions this connection's role may not see. */
  unseenSessions: number;
}

/** A timestamptz as text in UTC, to the microsecond: what AuditPosition holds. */
const exactTime = (expression: string) => `to_char((${expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

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
    const query = this.filtered(filter);
    if (page.afterId !== undefined) {
      query.andWhere(
        '(event.occurred_at, event.id) < (SELECT cursor_event.occurred_at, cursor_event.id FROM audit_events cursor_event WHERE cursor_event.id = :afterId)',
        { afterId: page.afterId },
      );
    }
    return query.orderBy('event.occurred_at', 'DESC').addOrderBy('event.id', 'DESC').limit(page.take).getMany();
  }

  /**
   * One page of matching events, oldest first (ties on time broken by id), strictly after `after`
   * and strictly before the instant `before` (exact time text, as AuditPosition holds it).
   */
  async listOldestFirst(
    filter: AuditExportFilter,
    page: { after?: AuditPosition; before?: string; take: number },
  ): Promise<PositionedAuditEvent[]> {
    const query = this.filtered(filter).addSelect(exactTime('event.occurred_at'), 'position_time');
    if (page.after !== undefined) {
      // The first condition alone can use the index on occurred_at; the second decides ties.
      query
        .andWhere('event.occurred_at >= CAST(:afterTime AS timestamptz)')
        .andWhere('(event.occurred_at, event.id) > (CAST(:afterTime AS timestamptz), CAST(:afterId AS uuid))', {
          afterTime: page.after.occurredAt,
          afterId: page.after.id,
        });
    }
    if (page.before !== undefined) query.andWhere('event.occurred_at < CAST(:before AS timestamptz)', { before: page.before });
    const { entities, raw } = await query
      .orderBy('event.occurred_at', 'ASC')
      .addOrderBy('event.id', 'ASC')
      .limit(page.take)
      .getRawAndEntities<{ event_id: string; position_time: string }>();
    const times = new Map(raw.map((row) => [row.event_id, row.position_time]));
    return entities.map((event) => ({ event, position: { occurredAt: times.get(event.id) as string, id: event.id } }));
  }

  /**
   * The instant before which no event can still appear. An event's time is its transaction's start
   * (occurred_at defaults to now()), so a transaction still open may yet commit events older than
   * ones already visible; none can be older than the start of the oldest transaction open now.
   * The sessions counted are those named as this one is (application_name: the service's and the
   * CLI's connections), as pg_stat_activity shows them to this role; one whose details it hides
   * is counted in `unseenSessions`. `marginMs` covers a transaction whose start is not shown yet.
   * Run it as its own statement before the read it bounds, so that read's snapshot is the later one.
   */
  async readHorizon(marginMs: number): Promise<AuditHorizonReading> {
    const [reading]: { horizon: string; oldest: string | null; age_ms: number | null; pid: number | null; unseen: number }[] =
      await this.events.query(
        `SELECT ${exactTime(`least(now(), min(activity.xact_start)) - $1 * interval '1 millisecond'`)} AS "horizon",
                ${exactTime('min(activity.xact_start)')} AS "oldest",
                (extract(epoch FROM now() - min(activity.xact_start)) * 1000)::bigint AS "age_ms",
                (array_agg(activity.pid ORDER BY activity.xact_start) FILTER (WHERE activity.xact_start IS NOT NULL))[1] AS "pid",
                (count(*) FILTER (WHERE activity.state IS NULL OR activity.state = 'disabled'))::int AS "unseen"
           FROM pg_stat_activity activity
          WHERE activity.datname = current_database()
            AND activity.application_name = current_setting('application_name')
            AND activity.pid <> pg_backend_pid()`,
        [marginMs],
      );
    return {
      horizon: reading.horizon,
      oldestOpen: reading.oldest === null ? null : { startedAt: reading.oldest, ageMs: Number(reading.age_ms), pid: Number(reading.pid) },
      unseenSessions: Number(reading.unseen),
    };
  }

  /** Whether the instant (exact time text) is after the database's clock. */
  async isAfterNow(instant: string): Promise<boolean> {
    const [{ after }]: { after: boolean }[] = await this.events.query(`SELECT CAST($1 AS timestamptz) > now() AS "after"`, [instant]);
    return after;
  }

  /** The events that match `filter`, in no order yet. */
  private filtered(filter: AuditExportFilter): SelectQueryBuilder<AuditEventEntity> {
    const query = this.events.createQueryBuilder('event');
    if (filter.since !== undefined) query.andWhere('event.occurred_at >= :since', { since: filter.since });
    if (filter.until !== undefined) query.andWhere('event.occurred_at < :until', { until: filter.until });
    if (filter.eventType !== undefined) {
      query.andWhere('(event.action = :eventType OR starts_with(event.action, :eventTypePrefix))', {
        eventType: filter.eventType,
        eventTypePrefix: `${filter.eventType}_`,
      });
    }
    if (filter.user !== undefined) {
      query.andWhere('(event.actor = :user OR event.actor_subject = :user)', { user: filter.user });
    }
    return query;
  }
}
