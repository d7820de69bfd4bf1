import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { Transaction } from '../../database/transactions.service.js';
import type { GithubRunner } from '../../github/github.types.js';
import { ForeignRunnerEntity } from './foreign-runner.entity.js';

/** A foreign runner as a sync recorded it: when it was first seen, and whether that was now. */
export interface ForeignSighting {
  githubRunnerId: number;
  firstSeenAt: Date;
  isNew: boolean;
}

/** Queries on foreign_runners. Writes take the caller's transaction (Transactions.run). */
@Injectable()
export class ForeignRunnersRepository {
  constructor(@InjectRepository(ForeignRunnerEntity) private readonly rows: Repository<ForeignRunnerEntity>) {}

  /**
   * A runner seen taking a job (a workflow_job event): added when no sync has seen it yet, else only
   * its last_seen_at moves (its status and labels stay the sync's). Whether it was new.
   */
  async recordSeen(tx: Transaction, runner: { id: number; name: string }): Promise<boolean> {
    const rows: { is_new: boolean }[] = await tx.query(
      `INSERT INTO foreign_runners (github_runner_id, name, status, busy, labels)
       VALUES ($1, $2, 'online', true, '{}')
       ON CONFLICT (github_runner_id) DO UPDATE SET last_seen_at = now(), gone_at = NULL
       RETURNING (xmax = 0) AS is_new`,
      [runner.id, runner.name],
    );
    return rows[0]?.is_new === true;
  }

  /**
   * Records that a complete listing showed these runners as foreign: a runner never seen before is
   * added (`isNew`; of several instances recording it at once, exactly one adds it), one seen before
   * gets its name, status, busy flag, labels and last_seen_at brought up to date, and is no longer gone.
   */
  async recordSightings(tx: Transaction, runners: GithubRunner[]): Promise<ForeignSighting[]> {
    if (runners.length === 0) return [];
    const values = [
      runners.map((runner) => runner.id),
      runners.map((runner) => runner.name),
      runners.map((runner) => runner.status),
      runners.map((runner) => runner.busy),
      // A text[] per runner does not fit unnest's one dimension: each label list travels as JSON.
      runners.map((runner) => JSON.stringify(runner.labels.map((label) => label.name))),
    ];
    const sighted = `unnest($1::bigint[], $2::text[], $3::text[], $4::bool[], $5::text[]) AS seen(id, name, status, busy, labels)`;
    const labels = `ARRAY(SELECT jsonb_array_elements_text(seen.labels::jsonb))`;
    const added: { id: string; first_seen_at: Date }[] = await tx.query(
      `INSERT INTO foreign_runners (github_runner_id, name, status, busy, labels)
       SELECT seen.id, seen.name, seen.status, seen.busy, ${labels} FROM ${sighted}
       ON CONFLICT (github_runner_id) DO NOTHING
       RETURNING github_runner_id AS id, first_seen_at`,
      values,
    );
    const addedIds = new Set(added.map((row) => Number(row.id)));
    // TypeORM answers an UPDATE with [rows, affected count].
    const [updated]: [{ id: string; first_seen_at: Date }[], number] = await tx.query(
      `UPDATE foreign_runners AS runner
          SET name = seen.name, status = seen.status, busy = seen.busy, labels = ${labels},
              last_seen_at = now(), gone_at = NULL
         FROM ${sighted}
        WHERE runner.github_runner_id = seen.id AND NOT (seen.id = ANY($6::bigint[]))
        RETURNING runner.github_runner_id AS id, runner.first_seen_at`,
      [...values, [...addedIds]],
    );
    return [
      ...added.map((row) => ({ githubRunnerId: Number(row.id), firstSeenAt: new Date(row.first_seen_at), isNew: true })),
      ...updated.map((row) => ({ githubRunnerId: Number(row.id), firstSeenAt: new Date(row.first_seen_at), isNew: false })),
    ];
  }

  /** Foreign runners a complete listing no longer showed as foreign (all but `current`) are gone. */
  async markGoneExcept(tx: Transaction, current: number[]): Promise<void> {
    await tx.query(
      `UPDATE foreign_runners SET gone_at = now() WHERE gone_at IS NULL AND NOT (github_runner_id = ANY($1::bigint[]))`,
      [current],
    );
  }

  /** This service removed the runner from GitHub. */
  async markRemoved(tx: Transaction, githubRunnerId: number): Promise<void> {
    await tx.update(ForeignRunnerEntity, { githubRunnerId }, { removedAt: () => 'now()', goneAt: () => 'now()' });
  }

  /** The runner is no longer on GitHub (it went between the listing and a removal). */
  async markGone(githubRunnerId: number): Promise<void> {
    await this.rows.update({ githubRunnerId }, { goneAt: () => 'now()' });
  }

  existsById(id: string): Promise<boolean> {
    return this.rows.exists({ where: { id } });
  }

  /**
   * One page of the foreign runners the last complete listing showed (not gone), newest first
   * (first seen, then id), strictly after the row `afterId`.
   */
  listCurrentPage(page: { limit?: number; afterId?: string }): Promise<ForeignRunnerEntity[]> {
    const query = this.rows.createQueryBuilder('runner').where('runner.gone_at IS NULL');
    if (page.afterId !== undefined) {
      // Compared in the database at full precision (a JavaScript Date would round to milliseconds).
      query.andWhere(
        '(runner.first_seen_at, runner.id) < (SELECT after.first_seen_at, after.id FROM foreign_runners after WHERE after.id = :afterId)',
        { afterId: page.afterId },
      );
    }
    query.orderBy('runner.first_seen_at', 'DESC').addOrderBy('runner.id', 'DESC');
    if (page.limit !== undefined) query.limit(page.limit);
    return query.getMany();
  }
}
