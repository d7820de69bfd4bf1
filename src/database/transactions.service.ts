import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The handle a unit of work passes to repositories: every query made through it runs in that
 * transaction. (On the embedded database a query made outside it would wait for the one session the
 * transaction holds.)
 */
export type Transaction = EntityManager;

/**
 * The one unit of work. A state change and the audit event that describes it commit together, or
 * neither does: services open a transaction here and hand it to each repository call.
 */
@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The handle for a unit of work that is a single statement (a change and its audit event written by
   * one statement): PostgreSQL runs every statement atomically, so BEGIN and COMMIT would only add two
   * round trips. Hand it only to repository methods that say they make one statement.
   */
  get singleStatement(): Transaction {
    return this.dataSource.manager;
  }
}
