import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { Transaction } from '../../database/transactions.service.js';
import { RunnerEntity, type RunnerStatus, TERMINAL_STATUSES } from '../runner.entity.js';

/** What a sync saw for one row, and the state the row had when it was read. */
export interface RunnerObservation {
  id: string;
  status: RunnerStatus;
  busy: boolean;
  githubRunnerId: number | null;
  lastSeenAt: Date | null;
  expectedStatus: RunnerStatus;
  expectedGithubRunnerId: number | null;
}

/**
 * The runners table as reconciliation reads it beyond RunnersRepository: JIT runners that never
 * started in time, and which runners on GitHub this service issued.
 */
@Injectable()
export class RunnerReconciliationRepository {
  constructor(@InjectRepository(RunnerEntity) private readonly rows: Repository<RunnerEntity>) {}

  /**
   * JIT runners still pending (never seen online) whose expires_at has passed: the caller had until
   * then to start them. Only rows GitHub answered for (with its id); oldest first.
   */
  listNeverStarted(now: Date): Promise<RunnerEntity[]> {
    return this.neverStarted(now).orderBy('runner.created_at', 'ASC').addOrderBy('runner.id', 'ASC').getMany();
  }

  /** The runner as it is now, if it is still a JIT runner that did not start by its expires_at. */
  findStillNeverStarted(id: string, now: Date): Promise<RunnerEntity | null> {
    return this.neverStarted(now).andWhere('runner.id = :id', { id }).getOne();
  }

  private neverStarted(now: Date): SelectQueryBuilder<RunnerEntity> {
    return this.rows
      .createQueryBuilder('runner')
      .where(`runner.kind = 'jit' AND runner.status = 'pending'`)
      .andWhere('runner.github_runner_id IS NOT NULL')
      .andWhere('runner.expires_at < :now', { now });
  }

  /**
   * Which of these GitHub runner ids a row has, in any status (deleted ones too): the runners of
   * the org that this service issued.
   */
  async findIssuedGithubRunnerIds(githubRunnerIds: number[]): Promise<Set<number>> {
    if (githubRunnerIds.length === 0) return new Set();
    const rows: { id: string }[] = await this.rows.query(
      'SELECT DISTINCT github_runner_id AS id FROM runners WHERE github_runner_id = ANY($1::bigint[])',
      [githubRunnerIds],
    );
    return new Set(rows.map((row) => Number(row.id)));
  }

  /** Whether a row has this GitHub id, or a live row this name (a runner being issued right now). */
  isIssued(githubRunnerId: number, name: string): Promise<boolean> {
    return this.rows.exists({ where: [{ githubRunnerId }, { name, status: Not(In([...TERMINAL_STATUSES])) }] });
  }

  /**
   * Applies many observations in one statement, each only while its row still has the status and
   * GitHub id it was read with. Returns the ids of the rows it changed.
   */
  async applyObservations(tx: Transaction, observations: RunnerObservation[]): Promise<Set<string>> {
    if (observations.length === 0) return new Set();
    const column = <K extends keyof RunnerObservation>(key: K) => observations.map((observation) => observation[key]);
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ id: string }[], number] = await tx.query(
      `UPDATE runners AS runner
          SET status = change.status,
              busy = change.busy,
              github_runner_id = change.github_runner_id,
              last_seen_at = COALESCE(change.last_seen_at, runner.last_seen_at),
              deleted_at = CASE WHEN change.status = 'deleted' THEN now() ELSE runner.deleted_at END,
              deletion_reason = CASE WHEN change.status = 'deleted' THEN 'gone_from_github' ELSE runner.deletion_reason END,
              updated_at = now()
         FROM unnest($1::uuid[], $2::varchar[], $3::bool[], $4::bigint[], $5::timestamptz[], $6::varchar[], $7::bigint[])
              AS change(id, status, busy, github_runner_id, last_seen_at, expected_status, expected_github_runner_id)
        WHERE runner.id = change.id
          AND runner.status = change.expected_status
          AND runner.github_runner_id IS NOT DISTINCT FROM change.expected_github_runner_id
        RETURNING runner.id`,
      [
        column('id'),
        column('status'),
        column('busy'),
        column('githubRunnerId'),
        column('lastSeenAt'),
        column('expectedStatus'),
        column('expectedGithubRunnerId'),
      ],
    );
    return new Set(rows.map((row) => row.id));
  }
}
