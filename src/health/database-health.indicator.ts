import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { describeDatabaseFailure, isDatabaseUnavailable } from '../database/database-errors.js';
import { DatabaseTimeout, pingDatabase } from '../database/database-ping.js';

/** How long /health waits for the database to answer `SELECT 1`. */
const PING_TIMEOUT_MS = 3_000;

/**
 * Whether the database answers. /health answers anyone, so a failure shows only that the database
 * is unreachable (or failing) and since when; what the driver said (which names the server's
 * address) goes to the log, once when the check starts failing and once when it passes again, not
 * on every probe.
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly logger = new Logger('Health');
  private failingSince: Date | null = null;

  constructor(
    private readonly indicator: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async check(key: string) {
    const check = this.indicator.check(key);
    try {
      await pingDatabase(this.dataSource, PING_TIMEOUT_MS);
    } catch (error) {
      const unreachable = error instanceof DatabaseTimeout || isDatabaseUnavailable(error);
      if (!this.failingSince) {
        this.failingSince = new Date();
        const why = error instanceof DatabaseTimeout ? error.message : unreachable ? describeDatabaseFailure(error) : (error as Error).message;
        this.logger.warn(`Health check: the database ${unreachable ? 'is unreachable' : 'fails'} (${why}); /health answers 503`);
      }
      return check.down({ reason: unreachable ? 'unreachable' : 'failing', since: this.failingSince.toISOString() });
    }
    if (this.failingSince) {
      this.logger.log(`Health check: the database answers again (it failed for ${Date.now() - this.failingSince.getTime()} ms)`);
      this.failingSince = null;
    }
    return check.up();
  }
}
