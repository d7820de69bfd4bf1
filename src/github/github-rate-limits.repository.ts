import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { GithubRateLimitEntity } from './github-rate-limit.entity.js';

/** What the shared row says: how long GitHub still wants every instance to wait. */
export interface SharedRateLimit {
  /** Milliseconds from now (the database's clock) until the block ends; 0 when open. */
  blockedForMs: number;
  remaining: number | null;
  resetAt: Date | null;
}

/** A limit GitHub signalled: wait this long; and its budget, when it said. */
export interface ObservedRateLimit {
  waitSeconds: number;
  remaining?: number;
  /** x-ratelimit-reset, epoch seconds. */
  resetEpochSeconds?: number;
}

/**
 * The github_rate_limits row of one App. Times are the database's (`now()`), so the instances'
 * clocks do not matter: a block is written as "this many seconds from now" and read back the same way.
 */
@Injectable()
export class GithubRateLimitsRepository {
  constructor(@InjectRepository(GithubRateLimitEntity) private readonly rows: Repository<GithubRateLimitEntity>) {}

  async read(appId: string): Promise<SharedRateLimit | null> {
    const rows: { blocked_for_ms: number | string; remaining: number | null; reset_at: Date | null }[] = await this.rows.query(
      `SELECT GREATEST(0, EXTRACT(EPOCH FROM blocked_until - now()) * 1000)::float8 AS blocked_for_ms, remaining, reset_at
         FROM github_rate_limits WHERE app_id = $1`,
      [appId],
    );
    const row = rows[0];
    if (!row) return null;
    return { blockedForMs: Number(row.blocked_for_ms), remaining: row.remaining, resetAt: row.reset_at };
  }

  /**
   * Records a limit: the block ends `waitSeconds` from now, or later if another instance already
   * recorded a later end (a shorter wait never cuts a longer one short).
   */
  async recordLimit(appId: string, limit: ObservedRateLimit): Promise<void> {
    await this.rows.query(
      `INSERT INTO github_rate_limits (app_id, blocked_until, remaining, reset_at, updated_at)
       VALUES ($1, now() + make_interval(secs => $2), $3, to_timestamp($4), now())
       ON CONFLICT (app_id) DO UPDATE
          SET blocked_until = GREATEST(github_rate_limits.blocked_until, EXCLUDED.blocked_until),
              remaining = EXCLUDED.remaining, reset_at = EXCLUDED.reset_at, updated_at = EXCLUDED.updated_at`,
      [appId, limit.waitSeconds, limit.remaining ?? null, limit.resetEpochSeconds ?? null],
    );
  }
}
