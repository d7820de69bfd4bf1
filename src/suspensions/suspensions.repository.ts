import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FindOptionsWhere, Repository, SelectQueryBuilder } from 'typeorm';
import type { SqlFragment } from '../database/sql-fragment.js';
import type { Transaction } from '../database/transactions.service.js';
import { SuspensionEntity } from './suspension.entity.js';
import type { SuspendedIdentity, SuspensionTarget } from './suspension-target.js';

export interface NewSuspension {
  createdBy: string;
  reason: string | null;
  removeRunners: boolean;
}

function whereTarget(target: SuspensionTarget): FindOptionsWhere<SuspensionEntity> {
  return target.kind === 'identity' ? { issuer: target.issuer, subject: target.subject } : { rule: target.rule };
}

/** Queries on suspensions. Writes take the caller's transaction and run inside it. */
@Injectable()
export class SuspensionsRepository {
  /** coveringCondition's SQL, by first parameter and whether a rule is asked about: the same for every caller. */
  private readonly conditions = new Map<string, string>();

  constructor(@InjectRepository(SuspensionEntity) private readonly rows: Repository<SuspensionEntity>) {}

  /**
   * The suspensions that cover a caller: its identity's, and its rule's when it has one (at most
   * two rows). One query, on the two unique indexes; through `tx` when given.
   */
  listCovering(tx: Transaction | undefined, identity: SuspendedIdentity, rule: string | null): Promise<SuspensionEntity[]> {
    return this.covering(tx, identity, rule).orderBy('suspension.created_at', 'ASC').getMany();
  }

  /**
   * listCovering's question as a SQL condition (EXISTS …), true when a suspension covers the caller,
   * for a statement that must not take effect then. The same query, numbered from `firstParam`.
   */
  coveringCondition(firstParam: number, identity: SuspendedIdentity, rule: string | null): SqlFragment {
    const params = rule === null ? [identity.issuer, identity.subject] : [identity.issuer, identity.subject, rule];
    const key = `${firstParam}:${rule !== null}`;
    const known = this.conditions.get(key);
    if (known) return { sql: known, params };
    // Built by the query builder once per shape (tens of µs, on every JIT otherwise).
    const [sql, built] = this.covering(undefined, identity, rule).select('1').getQueryAndParameters();
    const numbered = `EXISTS (${sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + firstParam - 1}`)})`;
    // Kept only when its parameters come in the order the next callers' are given in (told apart by distinct values).
    const ordered =
      new Set(params).size === params.length && built.length === params.length && built.every((value, i) => value === params[i]);
    if (ordered) this.conditions.set(key, numbered);
    return { sql: numbered, params: built };
  }

  /** Whether any suspension covers the caller: listCovering's query, answered as a yes or no. */
  existsCovering(tx: Transaction | undefined, identity: SuspendedIdentity, rule: string | null): Promise<boolean> {
    return this.covering(tx, identity, rule).getExists();
  }

  private covering(tx: Transaction | undefined, identity: SuspendedIdentity, rule: string | null): SelectQueryBuilder<SuspensionEntity> {
    const query = (tx ?? this.rows.manager)
      .createQueryBuilder(SuspensionEntity, 'suspension')
      .where('(suspension.issuer = :issuer AND suspension.subject = :subject)', {
        issuer: identity.issuer,
        subject: identity.subject,
      });
    if (rule !== null) query.orWhere('suspension.rule = :rule', { rule });
    return query;
  }

  findByTarget(tx: Transaction, target: SuspensionTarget): Promise<SuspensionEntity | null> {
    return tx.findOne(SuspensionEntity, { where: whereTarget(target) });
  }

  /**
   * Records the suspension unless the target is suspended already (a unique index decides, so two
   * concurrent requests make one row). Returns whether this call made it.
   */
  async insertIfAbsent(tx: Transaction, target: SuspensionTarget, suspension: NewSuspension): Promise<boolean> {
    const values =
      target.kind === 'identity'
        ? { issuer: target.issuer, subject: target.subject, rule: null }
        : { issuer: null, subject: null, rule: target.rule };
    const result = await tx
      .createQueryBuilder()
      .insert()
      .into(SuspensionEntity)
      .values({ ...values, ...suspension })
      .orIgnore()
      .returning(['id'])
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** Marks a suspension's runners as to be removed (asked again with remove_runners). */
  async markRemoveRunners(tx: Transaction, id: string): Promise<void> {
    await tx.update(SuspensionEntity, { id }, { removeRunners: true });
  }

  /** The suspensions whose runners are to go, for the cleanup. */
  listRemovingRunners(): Promise<SuspensionEntity[]> {
    return this.rows.find({ where: { removeRunners: true }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Removes the target's suspension and returns it as it was; null when it was not suspended. */
  async deleteByTarget(tx: Transaction, target: SuspensionTarget): Promise<SuspensionEntity | null> {
    const suspension = await tx.findOne(SuspensionEntity, { where: whereTarget(target), lock: { mode: 'pessimistic_write' } });
    if (!suspension) return null;
    await tx.delete(SuspensionEntity, { id: suspension.id });
    return suspension;
  }

  /** Every suspension in force, newest first. */
  listAll(): Promise<SuspensionEntity[]> {
    return this.rows.find({ order: { createdAt: 'DESC', id: 'DESC' } });
  }
}
