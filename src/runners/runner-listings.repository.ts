import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository, SelectQueryBuilder } from 'typeorm';
import type { Actor } from '../auth/actor.js';
import { RunnerEntity, type RunnerStatus, TERMINAL_STATUSES } from './runner.entity.js';

/** Which runners a list shows: live ones (not deleted or failed) unless a status is asked for. */
export interface RunnerListFilter {
  status?: RunnerStatus;
  limit: number;
  /** Continue after this runner (the last one of the previous page). */
  afterId?: string;
}

/** The ops view (list-runners): every owner's runners, or those of one user (name or subject). */
export interface RunnerDirectoryFilter {
  status?: RunnerStatus;
  user?: string;
}

/** The admin view: one page of every owner's runners, narrowed by each filter given. */
export interface RunnerDirectoryPageFilter {
  /** The owner's display name or subject. */
  owner?: string;
  /** The policy rule that allowed the runner. */
  rule?: string;
  status?: RunnerStatus;
  /** One of the runner's labels (lower-case, as stored). */
  label?: string;
  limit: number;
  /** Continue after this runner (the last one of the previous page). */
  afterId?: string;
}

/** The lists of runners: the caller's pages (the hottest read), the admin's pages and the ops view. */
@Injectable()
export class RunnerListingsRepository {
  private columns?: { property: string; name: string; from?: (value: unknown) => unknown }[];

  constructor(@InjectRepository(RunnerEntity) private readonly rows: Repository<RunnerEntity>) {}

  /**
   * One page of the actor's runners, newest first in the order of page(), continuing only after one of
   * theirs. The hottest read of the service: plain SQL, and rows mapped by the entity's own column
   * list (fromRow), without the query builder's per-call work.
   */
  async listOwnedPage(actor: Actor, filter: RunnerListFilter): Promise<RunnerEntity[]> {
    const params: unknown[] = [actor.issuer, actor.subject];
    const where = ['"owner_issuer" = $1', '"owner_subject" = $2'];
    if (filter.status !== undefined) {
      params.push(filter.status);
      where.push(`"status" = $${params.length}`);
    } else {
      where.push(`"status" NOT IN (${TERMINAL_STATUSES.map((status) => `'${status}'`).join(', ')})`);
    }
    if (filter.afterId !== undefined) {
      // Compared in the database at full precision; the cursor's row must be one of the caller's.
      params.push(filter.afterId);
      where.push(
        `("created_at", "id") < (SELECT after.created_at, after.id FROM "runners" after WHERE after.id = $${params.length} ` +
          'AND after.owner_issuer = $1 AND after.owner_subject = $2)',
      );
    }
    params.push(filter.limit);
    const rows = (await this.rows.query(
      `SELECT * FROM "runners" WHERE ${where.join(' AND ')} ORDER BY "created_at" DESC, "id" DESC LIMIT $${params.length}`,
      params,
    )) as Record<string, unknown>[];
    return rows.map((row) => this.fromRow(row));
  }

  /** A row of `SELECT *` as the entity TypeORM would have built: each column by its property name, through its transformer. */
  private fromRow(row: Record<string, unknown>): RunnerEntity {
    this.columns ??= this.rows.metadata.columns.map((column) => ({
      property: column.propertyName,
      name: column.databaseName,
      from: column.transformer && !Array.isArray(column.transformer) ? column.transformer.from.bind(column.transformer) : undefined,
    }));
    const runner = new RunnerEntity() as unknown as Record<string, unknown>;
    for (const { property, name, from } of this.columns) {
      const value = row[name];
      runner[property] = from ? from(value) : value;
    }
    return runner as unknown as RunnerEntity;
  }

  /** One page of every owner's runners, newest first, narrowed by each filter given: the admin view. */
  listAllPage(filter: RunnerDirectoryPageFilter): Promise<RunnerEntity[]> {
    const query = this.rows.createQueryBuilder('runner');
    this.filterByStatus(query, filter.status);
    if (filter.owner !== undefined) {
      query.andWhere('(runner.owner_name = :owner OR runner.owner_subject = :owner)', { owner: filter.owner });
    }
    if (filter.rule !== undefined) query.andWhere('runner.policy_rule = :rule', { rule: filter.rule });
    if (filter.label !== undefined) query.andWhere(':label = ANY(runner.labels)', { label: filter.label });
    return this.page(query, filter);
  }

  /**
   * Newest first in a stable order (created_at, then id), strictly after the runner `afterId`, so
   * runners created meanwhile never shift a page: they appear on the first page of the next listing.
   */
  private page(
    query: SelectQueryBuilder<RunnerEntity>,
    page: { limit: number; afterId?: string },
    cursorScope = 'TRUE',
  ): Promise<RunnerEntity[]> {
    if (page.afterId !== undefined) {
      // Compared in the database at full precision (a JavaScript Date would round to milliseconds).
      // cursorScope keeps the cursor's row among those the list may show.
      query.andWhere(
        `(runner.created_at, runner.id) < (SELECT after.created_at, after.id FROM runners after WHERE after.id = :afterId AND ${cursorScope})`,
        { afterId: page.afterId },
      );
    }
    return query.orderBy('runner.created_at', 'DESC').addOrderBy('runner.id', 'DESC').limit(page.limit).getMany();
  }

  /** Every owner's runners (or one user's, by name or subject), newest first: the ops view. */
  listAll(filter: RunnerDirectoryFilter): Promise<RunnerEntity[]> {
    const query = this.rows.createQueryBuilder('runner');
    this.filterByStatus(query, filter.status);
    if (filter.user !== undefined) {
      query.andWhere('(runner.owner_name = :user OR runner.owner_subject = :user)', { user: filter.user });
    }
    return query.orderBy('runner.created_at', 'DESC').addOrderBy('runner.id', 'DESC').getMany();
  }

  private filterByStatus(query: SelectQueryBuilder<RunnerEntity>, status: RunnerStatus | undefined): void {
    if (status !== undefined) query.andWhere('runner.status = :status', { status });
    else query.andWhere('runner.status NOT IN (:...terminal)', { terminal: [...TERMINAL_STATUSES] });
  }
}
