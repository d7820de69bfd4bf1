import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { describeDatabaseFailure, isDatabaseUnavailable } from './database-errors.js';

/** What a caller refused for an unreachable database is told to wait before trying again (Retry-After). */
export const DATABASE_RETRY_AFTER_SECONDS = 5;
/** Once the database is unreachable it is tried again after this long, then twice as long each time, up to the maximum. */
const PROBE_FIRST_DELAY_MS = 250;
const PROBE_MAX_DELAY_MS = 5_000;
/** Writes kept for when the database is back, at most; one more is given up (and logged). */
export const MAX_KEPT_WRITES = 1_000;
/** On shutdown, how long the kept writes get to reach the database. */
const SHUTDOWN_FLUSH_MS = 3_000;

interface KeptWrite {
  /** What it writes, for the log. */
  what: string;
  since: Date;
  write: () => Promise<void>;
}

function secondsSince(since: Date): string {
  return `${((Date.now() - since.getTime()) / 1000).toFixed(1)} s`;
}

/**
 * The database's outages as this process lives them. The first request that finds the database
 * unreachable logs it (warn, once per outage), later ones only at debug, and from then on the
 * database is tried again, with backoff, until it answers: the recovery is logged with how many
 * requests were refused, and the writes kept meanwhile (an attempt's closing audit event) are made,
 * oldest first. A write still kept when the process stops is logged; what it was to close is
 * resolved by the next sync.
 */
@Injectable()
export class DatabaseOutage implements OnModuleDestroy {
  private readonly logger = new Logger('Database');
  private outage: { since: Date; refused: number } | null = null;
  private readonly kept: KeptWrite[] = [];
  private probeTimer: NodeJS.Timeout | null = null;
  private probeDelayMs = PROBE_FIRST_DELAY_MS;
  private flushing: Promise<void> | null = null;
  private stopped = false;
  /** Writes given up because too many were kept already, since the last recovery. */
  private givenUp = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Since when the database is known to be unreachable; null while it answers. */
  get unavailableSince(): Date | null {
    return this.outage?.since ?? null;
  }

  /** How many writes wait for the database. */
  get keptWrites(): number {
    return this.kept.length;
  }

  /** A request was answered 503 because `error` showed the database unreachable. */
  noticeRefusal(error: unknown, requestId: string | null): void {
    const reason = describeDatabaseFailure(error);
    if (this.begin(reason, `first refused request ${requestId ?? '-'}`, { request_id: requestId })) {
      this.logger.debug({ request_id: requestId }, `Request ${requestId ?? '-'} refused: the database is unavailable (${reason})`);
    }
    if (this.outage) this.outage.refused++;
  }

  /**
   * Keeps `write`, which failed because the database could not be reached, and makes it once the
   * database answers again (`what` names it in the log). Writes are made in the order they were kept.
   */
  keep(what: string, write: () => Promise<void>, error: unknown): void {
    if (this.kept.length >= MAX_KEPT_WRITES) {
      // Logged once; the count comes with the recovery.
      if (this.givenUp++ === 0) {
        this.logger.error(`Gave up ${what}: ${MAX_KEPT_WRITES} writes already wait for the database; the next sync resolves what it was to close`);
      }
      return;
    }
    this.kept.push({ what, since: new Date(), write });
    this.begin(describeDatabaseFailure(error), `while writing ${what}`);
    this.logger.warn(`The database is unavailable: ${what} is kept until it answers again (${this.kept.length} kept)`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.kept.length === 0) return;
    // One more try, bounded: the connections close after this.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS)));
    await Promise.race([this.flush(), timeout]).finally(() => clearTimeout(timer));
    for (const write of this.kept) {
      this.logger.error(`Stopping with ${write.what} not written (kept since ${write.since.toISOString()}); the next sync resolves it`);
    }
  }

  /**
   * Starts an outage unless one is under way, and says whether one already was. The start is
   * logged once (warn), and the database is tried again until it answers.
   */
  private begin(reason: string, context: string, fields: Record<string, unknown> = {}): boolean {
    const already = this.outage !== null;
    if (!already) {
      this.outage = { since: new Date(), refused: 0 };
      this.probeDelayMs = PROBE_FIRST_DELAY_MS;
      this.logger.warn(
        fields,
        `Database unavailable (${reason}): requests are answered 503 DATABASE_UNAVAILABLE until it answers again (${context})`,
      );
    }
    this.scheduleProbe();
    return already;
  }

  private scheduleProbe(): void {
    if (this.probeTimer || this.stopped || this.flushing) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.probeDelayMs);
    // An outage is no reason to keep a stopping process alive.
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    this.probeTimer = null;
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      this.probeDelayMs = Math.min(this.probeDelayMs * 2, PROBE_MAX_DELAY_MS);
      this.scheduleProbe();
      return;
    }
    const outage = this.outage;
    this.outage = null;
    if (outage) {
      this.logger.log(
        `Database available again after ${secondsSince(outage.since)}: ${outage.refused} request(s) were answered 503 meanwhile` +
          (this.kept.length > 0 ? `; making the ${this.kept.length} kept write(s)` : ''),
      );
    }
    if (this.givenUp > 0) {
      this.logger.error(`${this.givenUp} write(s) were given up while the database was unavailable; the next sync resolves what they were to close`);
      this.givenUp = 0;
    }
    await this.flush();
  }

  /** Makes the kept writes, oldest first, until one finds the database unreachable again. */
  private flush(): Promise<void> {
    this.flushing ??= this.flushKept().finally(() => {
      this.flushing = null;
      if (this.outage) this.scheduleProbe();
    });
    return this.flushing;
  }

  private async flushKept(): Promise<void> {
    while (this.kept.length > 0) {
      const next = this.kept[0];
      try {
        await next.write();
        this.logger.log(`Wrote ${next.what}, kept for ${secondsSince(next.since)} while the database was unavailable`);
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          this.begin(describeDatabaseFailure(error), `while writing ${next.what}`);
          return;
        }
        this.logger.error(`Could not write ${next.what} (kept since ${next.since.toISOString()}): ${(error as Error).message}`);
      }
      this.kept.shift();
    }
  }
}
