import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Not, QueryFailedError, type Repository, type SelectQueryBuilder } from 'typeorm';
import type { Actor } from '../auth/actor.js';
import { UUID_PATTERN } from '../common/text.js';
import { randomUUID } from 'node:crypto';
import type { AuditStatement } from '../audit/audit.service.js';
import type { SqlFragment } from '../database/sql-fragment.js';
import type { Transaction } from '../database/transactions.service.js';
import { RunnerEntity, type RunnerStatus, TERMINAL_STATUSES, UQ_RUNNERS_NAME_ACTIVE } from './runner.entity.js';

/** An owner as runners record it: the token's issuer and subject. */
export interface RunnerOwner {
  issuer: string;
  subject: string;
}

export type NewRunner = Pick<
  RunnerEntity,
  | 'name'
  | 'kind'
  | 'status'
  | 'ephemeral'
  | 'labels'
  | 'runnerGroupId'
  | 'ownerIssuer'
  | 'ownerSubject'
  | 'ownerName'
  | 'policyRule'
>;

export type RunnerChange = Partial<
  Pick<
    RunnerEntity,
    'status' | 'busy' | 'githubRunnerId' | 'failureCode' | 'failureReason' | 'expiresAt' | 'lastSeenAt' | 'deletedAt' | 'deletionReason'
  >
>;

/**
 * The audit event that goes with a change, as SQL (AuditService.statement): written once per row of
 * the CTE `source`, with parameters numbered from `firstParam`; `runnerId` is the changed row's.
 */
export type RecordChange = (runnerId: string, firstParam: number, source: string) => AuditStatement;

/** The columns of RunnerChange, as the database names them. */
const CHANGE_COLUMNS: Record<keyof RunnerChange, string> = {
  status: 'status',
  busy: 'busy',
  githubRunnerId: 'github_runner_id',
  failureCode: 'failure_code',
  failureReason: 'failure_reason',
  expiresAt: 'expires_at',
  lastSeenAt: 'last_seen_at',
  deletedAt: 'deleted_at',
  deletionReason: 'deletion_reason',
};

/** True when an insert or update collided with another live runner's name. */
export function isNameTaken(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; constraint?: string; message?: string };
  return (
    driverError.code === '23505' &&
    (driverError.constraint === UQ_RUNNERS_NAME_ACTIVE || (driverError.message ?? '').includes(UQ_RUNNERS_NAME_ACTIVE))
  );
}

/** The statuses a runner can go stale in. */
const STALE_STATUSES: RunnerStatus[] = ['pending', 'offline'];

const ownedBy = (actor: Actor) => ({ ownerIssuer: actor.issuer, ownerSubject: actor.subject });
const live = () => Not(In([...TERMINAL_STATUSES]));

/** Queries on runners. Writes take the caller's transaction (Transactions.run) and run inside it. */
@Injectable()
export class RunnersRepository {
  constructor(@InjectRepository(RunnerEntity) private readonly rows: Repository<RunnerEntity>) {}

  /** How many runners there are of each status and kind (the rts_runners gauge). */
  async countByStatusAndKind(): Promise<{ status: string; kind: string; count: number }[]> {
    const rows = await this.rows
      .createQueryBuilder('runner')
      .select('runner.status', 'status')
      .addSelect('runner.kind', 'kind')
      .addSelect('COUNT(*)::int', 'count')
      .groupBy('runner.status')
      .addGroupBy('runner.kind')
      .getRawMany<{ status: string; kind: string; count: number }>();
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** The runner that holds this name now (not deleted, not failed), whoever owns it. */
  findActiveByName(name: string): Promise<RunnerEntity | null> {
    return this.rows.findOne({ where: { name, status: live() } });
  }

  /** The actor's failed attempts at this name, newest first (recent ones are what matter). */
  listFailedAttempts(actor: Actor, name: string, limit = 10): Promise<RunnerEntity[]> {
    return this.rows.find({
      where: { name, status: 'failed', ...ownedBy(actor) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  /**
   * The actor's runner by id, or by name (the live one, else the newest). Another owner's runner is
   * not found, exactly like one that does not exist.
   */
  async findOwned(actor: Actor, idOrName: string): Promise<RunnerEntity | null> {
    if (UUID_PATTERN.test(idOrName)) {
      const byId = await this.rows.findOne({ where: { id: idOrName, ...ownedBy(actor) } });
      if (byId) return byId;
    }
    const holder = await this.rows.findOne({
      where: { name: idOrName, status: live(), ...ownedBy(actor) },
    });
    if (holder) return holder;
    return this.rows.findOne({
      where: { name: idOrName, ...ownedBy(actor) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  /**
   * Any owner's runner by id, or by name (the live one, else the newest): for admins, who act on
   * every owner's runners.
   */
  async findAny(idOrName: string): Promise<RunnerEntity | null> {
    if (UUID_PATTERN.test(idOrName)) {
      const byId = await this.rows.findOne({ where: { id: idOrName } });
      if (byId) return byId;
    }
    const holder = await this.rows.findOne({ where: { name: idOrName, status: live() } });
    if (holder) return holder;
    return this.rows.findOne({ where: { name: idOrName }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Whether the runner with this id (any status) is the actor's: a cursor of their list names one. */
  isOwnedBy(actor: Actor, id: string): Promise<boolean> {
    return this.rows.exists({ where: { id, ...ownedBy(actor) } });
  }

  /** Whether a runner with this id exists, whoever owns it: a cursor of the admin view names one. */
  existsById(id: string): Promise<boolean> {
    return this.rows.exists({ where: { id } });
  }

  /** Live runners (not deleted, not failed, whatever GitHub calls them) of one owner: what a per-identity quota counts. */
  countLiveOwnedBy(tx: Transaction, owner: { issuer: string; subject: string }): Promise<number> {
    return tx.count(RunnerEntity, { where: { ownerIssuer: owner.issuer, ownerSubject: owner.subject, status: live() } });
  }

  /** Live runners granted by one policy rule, whoever owns them: what a rule-wide quota counts. */
  countLiveByRule(tx: Transaction, rule: string): Promise<number> {
    return tx.count(RunnerEntity, { where: { policyRule: rule, status: live() } });
  }

  /**
   * Holds a transaction-scoped PostgreSQL advisory lock on `key` until the transaction ends, so
   * that counting and inserting under it cannot interleave with another transaction doing the same.
   */
  async lockForCounting(tx: Transaction, key: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  /**
   * Adds a runner row. A registration-token row records the highest GitHub runner id this service
   * knows at that moment (before its token is asked for): a runner at or below it is older than the
   * token and never this row's.
   */
  async insert(tx: Transaction, runner: NewRunner): Promise<RunnerEntity> {
    const githubRunnerIdFloor = runner.kind === 'registration_token' ? await this.highestGithubRunnerId(tx) : null;
    return tx.save(tx.create(RunnerEntity, { busy: false, githubRunnerIdFloor, ...runner }));
  }

  /**
   * insert, and its audit event written by the same statement (`record`): one round trip instead of
   * two, and no ORM bookkeeping on the provisioning path. With `unless`, neither is written, and the
   * answer is null, when that condition holds as the statement runs or a live runner holds the name
   * (without `unless`, a held name throws, see isNameTaken).
   */
  async insertRecorded(tx: Transaction, runner: NewRunner, record: RecordChange): Promise<RunnerEntity>;
  async insertRecorded(
    tx: Transaction,
    runner: NewRunner,
    record: RecordChange,
    unless: (firstParam: number) => SqlFragment,
  ): Promise<RunnerEntity | null>;
  async insertRecorded(
    tx: Transaction,
    runner: NewRunner,
    record: RecordChange,
    unless?: (firstParam: number) => SqlFragment,
  ): Promise<RunnerEntity | null> {
    const githubRunnerIdFloor = runner.kind === 'registration_token' ? await this.highestGithubRunnerId(tx) : null;
    const id = randomUUID();
    const values = [
      id,
      runner.name,
      runner.kind,
      runner.status,
      false,
      runner.ephemeral,
      runner.labels,
      runner.runnerGroupId,
      githubRunnerIdFloor,
      runner.ownerIssuer,
      runner.ownerSubject,
      runner.ownerName,
      runner.policyRule,
    ];
    const event = record(id, values.length + 1, 'inserted');
    const condition = unless?.(values.length + event.params.length + 1);
    const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
    // INSERT ... SELECT types its parameters by the columns, as VALUES does.
    const source = condition ? `SELECT ${placeholders} WHERE NOT ${condition.sql} ON CONFLICT DO NOTHING` : `VALUES (${placeholders})`;
    const [row] = (await tx.query(
      `WITH inserted AS (
         INSERT INTO "runners" ("id", "name", "kind", "status", "busy", "ephemeral", "labels", "runner_group_id",
           "github_runner_id_floor", "owner_issuer", "owner_subject", "owner_name", "policy_rule")
         ${source}
         RETURNING "created_at", "updated_at"),
       recorded AS (${event.sql})
       SELECT "created_at", "updated_at" FROM inserted`,
      [...values, ...event.params, ...(condition?.params ?? [])],
    )) as { created_at: Date; updated_at: Date }[];
    if (!row) return null;
    return Object.assign(new RunnerEntity(), {
      id,
      name: runner.name,
      kind: runner.kind,
      status: runner.status,
      busy: false,
      ephemeral: runner.ephemeral,
      labels: runner.labels,
      runnerGroupId: runner.runnerGroupId,
      githubRunnerId: null,
      githubRunnerIdFloor,
      ownerIssuer: runner.ownerIssuer,
      ownerSubject: runner.ownerSubject,
      ownerName: runner.ownerName,
      policyRule: runner.policyRule,
      failureCode: null,
      failureReason: null,
      expiresAt: null,
      jobRepository: null,
      jobRunId: null,
      jobRunAttempt: null,
      jobId: null,
      jobConclusion: null,
      removalReason: null,
      lastSeenAt: null,
      deletedAt: null,
      deletionReason: null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    } satisfies RunnerEntity);
  }

  /** The highest GitHub runner id in the table (of any row, deleted ones too), or null. */
  private async highestGithubRunnerId(tx: Transaction): Promise<number | null> {
    const [row] = (await tx.query('SELECT max("github_runner_id") AS "highest" FROM "runners"')) as { highest: string | null }[];
    return row?.highest === null || row?.highest === undefined ? null : Number(row.highest);
  }

  /**
   * Applies `change` only while the runner is still pending (and, when given, still has that GitHub
   * id), so a request that lost a race cannot overwrite the winner's change. Returns false when it
   * was no longer in that state.
   */
  async updateWhilePending(
    tx: Transaction,
    id: string,
    githubRunnerId: number | null,
    change: RunnerChange,
  ): Promise<boolean> {
    const result = await tx.update(
      RunnerEntity,
      { id, status: 'pending', githubRunnerId: githubRunnerId === null ? IsNull() : githubRunnerId },
      change,
    );
    return Boolean(result.affected);
  }

  /**
   * updateWhilePending, and its audit event (`record`) written by the same statement only when the
   * change was applied. One statement: `tx` may be Transactions.singleStatement.
   */
  async updateWhilePendingRecorded(
    tx: Transaction,
    id: string,
    githubRunnerId: number | null,
    change: RunnerChange,
    record: RecordChange,
  ): Promise<boolean> {
    const entries = Object.entries(change).filter(([, value]) => value !== undefined) as [keyof RunnerChange, unknown][];
    const params: unknown[] = [id, ...entries.map(([, value]) => value)];
    const assignments = entries.map(([key], i) => `"${CHANGE_COLUMNS[key]}" = $${i + 2}`);
    let owned = '"github_runner_id" IS NULL';
    if (githubRunnerId !== null) {
      params.push(githubRunnerId);
      owned = `"github_runner_id" = $${params.length}`;
    }
    const event = record(id, params.length + 1, 'changed');
    const [row] = (await tx.query(
      `WITH changed AS (
         UPDATE "runners" SET ${[...assignments, '"updated_at" = CURRENT_TIMESTAMP'].join(', ')}
         WHERE "id" = $1 AND "status" = 'pending' AND ${owned}
         RETURNING "id"),
       recorded AS (${event.sql})
       SELECT count(*)::int AS "changed" FROM changed`,
      [...params, ...event.params],
    )) as { changed: number }[];
    return row.changed > 0;
  }

  /**
   * Applies `change` only while the row still has the status and GitHub id it was read with, so a
   * change decided on a stale read (another request, sync or cleanup got there first) is dropped.
   */
  async updateIfUnchanged(tx: Transaction, runner: RunnerEntity, change: RunnerChange): Promise<boolean> {
    const result = await tx.update(
      RunnerEntity,
      {
        id: runner.id,
        status: runner.status,
        githubRunnerId: runner.githubRunnerId === null ? IsNull() : runner.githubRunnerId,
      },
      change,
    );
    return Boolean(result.affected);
  }

  /**
   * Applies `change` while the runner is still live (not deleted or failed), whatever else changed
   * meanwhile: for a decision that stands once GitHub has carried it out (a delete).
   */
  async updateWhileLive(tx: Transaction, id: string, change: RunnerChange): Promise<boolean> {
    const result = await tx.update(RunnerEntity, { id, status: live() }, change);
    return Boolean(result.affected);
  }

  /** The runner as it is now, if it is still stale: pending or offline since before `cutoff`. */
  findStillStale(id: string, cutoff: Date): Promise<RunnerEntity | null> {
    return this.rows
      .createQueryBuilder('runner')
      .where('runner.id = :id', { id })
      .andWhere('runner.status IN (:...statuses)', { statuses: STALE_STATUSES })
      .andWhere('COALESCE(runner.last_seen_at, runner.created_at) < :cutoff', { cutoff })
      .getOne();
  }

  /** The owner's live runners (not deleted or failed), oldest first. */
  listLiveOwnedBy(owner: RunnerOwner): Promise<RunnerEntity[]> {
    return this.rows.find({
      where: { ownerIssuer: owner.issuer, ownerSubject: owner.subject, status: live() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** The live runners (not deleted or failed) that a policy rule allowed, whoever owns them, oldest first. */
  listLiveByRule(rule: string): Promise<RunnerEntity[]> {
    return this.rows.find({ where: { policyRule: rule, status: live() }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Live runners that must go as soon as GitHub lets us remove them (removal_reason set), oldest first. */
  listLiveMarkedForRemoval(): Promise<RunnerEntity[]> {
    return this.rows.find({ where: { status: live(), removalReason: Not(IsNull()) }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Every live runner (not deleted or failed): what a sync compares with GitHub. */
  listLive(): Promise<RunnerEntity[]> {
    return this.rows.find({ where: { status: live() }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Runners pending or offline since before `cutoff`: last seen online before it, or, never seen,
   * created before it. Oldest first.
   */
  listStale(cutoff: Date): Promise<RunnerEntity[]> {
    return this.rows
      .createQueryBuilder('runner')
      .where('runner.status IN (:...statuses)', { statuses: STALE_STATUSES })
      .andWhere('COALESCE(runner.last_seen_at, runner.created_at) < :cutoff', { cutoff })
      .orderBy('runner.created_at', 'ASC')
      .addOrderBy('runner.id', 'ASC')
      .getMany();
  }
}
