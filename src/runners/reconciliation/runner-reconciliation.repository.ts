import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Not, type Repository, type SelectQueryBuilder } from 'typeorm';
import { RunnerEntity, TERMINAL_STATUSES } from '../runner.entity.js';

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
}
