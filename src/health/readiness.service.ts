import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { countPendingMigrations } from '../database/schema.js';
import { PolicyStore } from '../policy/policy.store.js';
import { Draining } from './draining.service.js';
import { pingDatabase, withDatabaseTimeout } from '../database/database-ping.js';

/** A probe's timeout is a few seconds: the database answers within this, or counts as down. */
export const READINESS_DATABASE_TIMEOUT_MS = 2_000;

export interface ReadinessChecks {
  database: 'ok' | 'down';
  /** unknown: the database did not answer the question. */
  migrations: 'ok' | 'pending' | 'unknown';
  policy: 'ok' | 'down';
  shutdown: 'ok' | 'draining';
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessChecks;
}

/**
 * Whether this instance should receive requests (GET /readyz): the database answers, every migration
 * this version knows is applied, a policy is in force, and the service is not shutting down. GitHub
 * is not asked: when it is down every replica is equally unable, and taking them all out of the load
 * balancer would turn GitHub's errors (502, 503 with a code) into connection failures.
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger('Readiness');
  /** Once every migration is applied it stays so (migrations are never un-run): asked until then only. */
  private migrationsCurrent = false;
  /** The last answer, to log changes rather than every probe. */
  private lastFailing: string | undefined;
  /** The check under way: probes that arrive meanwhile share it, so a flood costs one query at a time. */
  private underWay: Promise<Readiness> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly policy: PolicyStore,
    private readonly draining: Draining,
  ) {}

  check(): Promise<Readiness> {
    this.underWay ??= this.checkNow().finally(() => {
      this.underWay = undefined;
    });
    return this.underWay;
  }

  private async checkNow(): Promise<Readiness> {
    const problems: string[] = [];
    const [database, migrations] = await Promise.all([
      this.checkDatabase(problems),
      this.checkMigrations(problems),
    ]);
    const checks: ReadinessChecks = {
      database,
      migrations,
      policy: this.checkPolicy(problems),
      shutdown: this.draining.active ? 'draining' : 'ok',
    };
    const ready = Object.values(checks).every((check) => check === 'ok');
    this.logChange(checks, problems);
    return { ready, checks };
  }

  private async checkDatabase(problems: string[]): Promise<ReadinessChecks['database']> {
    try {
      await pingDatabase(this.dataSource, READINESS_DATABASE_TIMEOUT_MS);
      return 'ok';
    } catch (error) {
      problems.push(`database: ${(error as Error).message}`);
      return 'down';
    }
  }

  private async checkMigrations(problems: string[]): Promise<ReadinessChecks['migrations']> {
    if (this.migrationsCurrent) return 'ok';
    try {
      const pending = await withDatabaseTimeout(countPendingMigrations(this.dataSource), READINESS_DATABASE_TIMEOUT_MS);
      if (pending === 0) {
        this.migrationsCurrent = true;
        return 'ok';
      }
      problems.push(`migrations: ${pending} pending; run init-db`);
      return 'pending';
    } catch (error) {
      problems.push(`migrations: ${(error as Error).message}`);
      return 'unknown';
    }
  }

  /** A bad file stops the start and a failed reload keeps the policy in force, so this fails only on a fault. */
  private checkPolicy(problems: string[]): ReadinessChecks['policy'] {
    try {
      this.policy.status();
      return 'ok';
    } catch (error) {
      problems.push(`policy: ${(error as Error).message}`);
      return 'down';
    }
  }

  private logChange(checks: ReadinessChecks, problems: string[]): void {
    const failing = Object.entries(checks)
      .filter(([, check]) => check !== 'ok')
      .map(([name, check]) => `${name} ${check}`)
      .join(', ');
    if (failing === (this.lastFailing ?? '')) return;
    const before = this.lastFailing;
    this.lastFailing = failing;
    if (failing === '') {
      if (before !== undefined) this.logger.log('Ready again: every check passes');
      return;
    }
    this.logger.warn(`Not ready (${failing})${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`);
  }
}
