import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { describeDatabaseFailure, isDatabaseUnavailable } from '../database/database-errors.js';

/** How long /health waits for the database to answer `SELECT 1`. */
const PING_TIMEOUT_MS = 3_000;

class PingTimeout extends Error {
  constructor() {
    super(`no answer within ${PING_TIMEOUT_MS} ms`);
  }
}

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
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new PingTimeout()), PING_TIMEOUT_MS)));
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
    } catch (error) {
      const unreachable = error instanceof PingTimeout || isDatabaseUnavailable(error);
      if (!this.failingSince) {
        this.failingSince = new Date();
        const why = error instanceof PingTimeout ? error.message : unreachable ? describeDatabaseFailure(error) : (error as Error).message;
        this.logger.warn(`Health check: the database ${unreachable ? 'is unreachable' : 'fails'} (${why}); /health answers 503`);
      }
      return check.down({ reason: unreachable ? 'unreachable' : 'failing', since: this.failingSince.toISOString() });
    } finally {
      clearTimeout(timer);
    }
    if (this.failingSince) {
      this.logger.log(`Health check: the database answers again (it failed for ${Date.now() - this.failingSince.getTime()} ms)`);
      this.failingSince = null;
    }
    return check.up();
  }
}
