import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, In, Not, QueryFailedError } from 'typeorm';
import type { Actor } from '../auth/actor.js';
import { RunnerEntity, TERMINAL_STATUSES, UQ_RUNNERS_NAME_ACTIVE } from './runner.entity.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_LIST_LIMIT = 100;

export type NewRunner = Pick<
  RunnerEntity,
  'name' | 'kind' | 'status' | 'ephemeral' | 'labels' | 'runnerGroupId' | 'ownerIssuer' | 'ownerSubject' | 'ownerName'
> &
  Partial<Pick<RunnerEntity, 'expiresAt'>>;

export type RunnerChange = Partial<
  Pick<
    RunnerEntity,
    'status' | 'busy' | 'githubRunnerId' | 'failureReason' | 'expiresAt' | 'lastSeenAt' | 'deletedAt'
  >
>;

/** True when an insert or update collided with another live runner's name. */
export function isNameTaken(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; constraint?: string; message?: string };
  return (
    driverError.code === '23505' &&
    (driverError.constraint === UQ_RUNNERS_NAME_ACTIVE || (driverError.message ?? '').includes(UQ_RUNNERS_NAME_ACTIVE))
  );
}

/** Queries on runners. Methods that take a manager run inside the caller's transaction. */
@Injectable()
export class RunnersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction (a runner change and its audit event commit together). */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The runner that holds this name now (not deleted, not failed), whoever owns it. */
  findActiveByName(name: string, manager: EntityManager = this.dataSource.manager): Promise<RunnerEntity | null> {
    return manager.findOne(RunnerEntity, { where: { name, status: Not(In([...TERMINAL_STATUSES])) } });
  }

  /**
   * The actor's runner by id, or by name (the live one, else the newest). Another owner's runner is
   * not found, exactly like one that does not exist.
   */
  async findOwned(actor: Actor, idOrName: string): Promise<RunnerEntity | null> {
    const owner = { ownerIssuer: actor.issuer, ownerSubject: actor.subject };
    if (UUID_PATTERN.test(idOrName)) {
      const byId = await this.dataSource.manager.findOne(RunnerEntity, { where: { id: idOrName, ...owner } });
      if (byId) return byId;
    }
    const live = await this.dataSource.manager.findOne(RunnerEntity, {
      where: { name: idOrName, status: Not(In([...TERMINAL_STATUSES])), ...owner },
    });
    if (live) return live;
    return this.dataSource.manager.findOne(RunnerEntity, {
      where: { name: idOrName, ...owner },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
  }

  /** The actor's live runners, newest first. */
  listOwned(actor: Actor, limit = DEFAULT_LIST_LIMIT): Promise<RunnerEntity[]> {
    return this.dataSource.manager.find(RunnerEntity, {
      where: { ownerIssuer: actor.issuer, ownerSubject: actor.subject, status: Not(In([...TERMINAL_STATUSES])) },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  async insert(manager: EntityManager, runner: NewRunner): Promise<RunnerEntity> {
    const entity = manager.create(RunnerEntity, { busy: false, ...runner });
    return manager.save(entity);
  }

  async update(manager: EntityManager, runner: RunnerEntity, change: RunnerChange): Promise<RunnerEntity> {
    Object.assign(runner, change);
    return manager.save(runner);
  }
}
