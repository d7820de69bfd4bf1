import { Injectable } from '@nestjs/common';
import { In, IsNull, Not } from 'typeorm';
import type { Transaction } from '../../database/transactions.service.js';
import { RunnerEntity, TERMINAL_STATUSES } from '../runner.entity.js';

/** What a workflow_job event writes on a runner row. */
export type RunnerJobChange = Partial<
  Pick<
    RunnerEntity,
    | 'status'
    | 'busy'
    | 'lastSeenAt'
    | 'deletedAt'
    | 'deletionReason'
    | 'jobRepository'
    | 'jobRunId'
    | 'jobRunAttempt'
    | 'jobId'
    | 'jobConclusion'
    | 'removalReason'
  >
>;

const live = () => Not(In([...TERMINAL_STATUSES]));

/** The queries of workflow_job events on the runners table. Writes take the caller's transaction. */
@Injectable()
export class RunnerJobsRepository {
  /**
   * The row of the runner GitHub knows by this id (the newest, should there be several), locked
   * until the transaction ends, so two events for one runner apply one after the other.
   */
  lockByGithubRunnerId(tx: Transaction, githubRunnerId: number): Promise<RunnerEntity | null> {
    return tx.findOne(RunnerEntity, {
      where: { githubRunnerId },
      order: { createdAt: 'DESC', id: 'DESC' },
      lock: { mode: 'pessimistic_write' },
    });
  }

  /**
   * A live registration-token row of this name whose GitHub id is not known yet: the sync adopts its
   * runner once it can tell that it is the row's (see registrationMismatch).
   */
  findUnadoptedByName(tx: Transaction, name: string): Promise<RunnerEntity | null> {
    return tx.findOne(RunnerEntity, { where: { name, kind: 'registration_token', githubRunnerId: IsNull(), status: live() } });
  }

  async update(tx: Transaction, id: string, change: RunnerJobChange): Promise<void> {
    await tx.update(RunnerEntity, { id }, change);
  }

  /**
   * Whether any live runner of this service carries every one of these labels (lower-case, as
   * stored): whether GitHub could give a job with these labels to one of ours.
   */
  async anyLiveRunnerHasLabels(tx: Transaction, labels: string[]): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM runners WHERE status NOT IN ('deleted', 'failed') AND labels @> $1::text[] LIMIT 1`,
      [labels],
    );
    return rows.length > 0;
  }
}
