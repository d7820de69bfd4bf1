import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity.js';

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

/** Queries on the audit trail (writes go through AuditService.record, inside the caller's transaction). */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One page of matching events, newest first (ties on time broken by id), after the event
   * `afterId` when given. The cursor is compared in SQL against that event's stored time: a time
   * taken through a JS Date would lose PostgreSQL's microseconds and skip or repeat events.
   */
  listNewestFirst(filter: AuditExportFilter, page: { afterId?: string; take: number }): Promise<AuditEventEntity[]> {
    const query = this.dataSource.manager.createQueryBuilder(AuditEventEntity, 'event');
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
