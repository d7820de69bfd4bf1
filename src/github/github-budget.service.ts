import { Inject, Injectable, Logger } from '@nestjs/common';
import { ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GithubError } from './github.errors.js';
import { GithubRateLimitsRepository, type ObservedRateLimit } from './github-rate-limits.repository.js';

/** The shared row is read at most this often per instance: the hot path adds no query per call. */
export const BUDGET_REFRESH_MS = 1_000;
/**
 * The longest wait honoured, from GitHub or from the shared row: GitHub's primary window is an hour,
 * so nothing it says can ask for more; a wrong or corrupted value never blocks for longer.
 */
export const MAX_BLOCK_SECONDS = 3_600;

/**
 * GitHub's rate-limit budget of the App, as every instance of the service shares it. When GitHub
 * says wait (a 403/429 rate limit, or a response with no requests left), this instance stops at
 * once and writes the end of the wait to github_rate_limits; every instance reads that row at most
 * once a second, so none calls GitHub before the wait is over. If the row cannot be read, the
 * instance goes on with what it saw itself (fail open) and logs it.
 */
@Injectable()
export class GithubBudget {
  private readonly logger = new Logger(GithubBudget.name);
  private readonly appId: string;
  /** When the wait ends (this instance's clock, ms); in the past means open. */
  private blockedUntil = 0;
  /** The budget GitHub reported last, for the log. */
  private remaining: number | undefined;
  private refreshedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  private readFailing = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rows: GithubRateLimitsRepository,
  ) {
    this.appId = config.github.appId;
  }

  /** Milliseconds until GitHub may be called again; 0 when it may be called now. */
  async waitMs(): Promise<number> {
    if (Date.now() - this.refreshedAt >= BUDGET_REFRESH_MS) await this.refresh();
    return Math.max(0, this.blockedUntil - Date.now());
  }

  /** Throws GITHUB_RATE_LIMITED, with the whole seconds left, while GitHub says wait. */
  async assertOpen(operation: string): Promise<void> {
    const waitMs = await this.waitMs();
    if (waitMs === 0) return;
    const seconds = Math.ceil(waitMs / 1000);
    throw new GithubError(
      ERROR_CODES.GITHUB_RATE_LIMITED,
      `GitHub asked this service to wait (its rate limit for the App): nothing was sent to GitHub; retry in ${seconds} s`,
      {
        retryAfterSeconds: seconds,
        operatorDetail: `${operation} held back until ${new Date(this.blockedUntil).toISOString()}; every instance waits (github_rate_limits)`,
      },
    );
  }

  /**
   * The x-ratelimit headers of an answer that is not itself a rate limit (those come to `block`
   * through the error mapping): the budget left, and when none is, a wait until GitHub's reset.
   */
  async observe(headers: { get(name: string): string | null }): Promise<void> {
    const remaining = parseInteger(headers.get('x-ratelimit-remaining'));
    if (remaining === undefined) return;
    this.remaining = remaining;
    if (remaining > 0) return;
    const reset = parseInteger(headers.get('x-ratelimit-reset'));
    if (reset === undefined) return;
    await this.block({ waitSeconds: Math.ceil(reset - Date.now() / 1000), remaining, resetEpochSeconds: reset });
  }

  /** GitHub said wait: this instance waits at once, and the others once they read the shared row. */
  async block(limit: ObservedRateLimit): Promise<void> {
    const waitSeconds = Math.min(MAX_BLOCK_SECONDS, Math.max(0, limit.waitSeconds));
    if (waitSeconds === 0) return;
    const until = Date.now() + waitSeconds * 1000;
    // Many calls under way see the same limit: the first one records it.
    if (until <= this.blockedUntil + 1000) return;
    this.blockedUntil = until;
    const left = limit.remaining ?? this.remaining;
    this.logger.warn(
      `GitHub rate limit: no calls to GitHub for ${waitSeconds} s, until ${new Date(until).toISOString()}` +
        `${left === undefined ? '' : ` (${left} requests left in GitHub's window)`}; every instance waits`,
    );
    try {
      await this.rows.recordLimit(this.appId, { ...limit, waitSeconds });
    } catch (error) {
      this.logger.error(`Could not share the GitHub rate limit with the other instances: ${(error as Error).message}`);
    }
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.readShared().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readShared(): Promise<void> {
    try {
      const shared = await this.rows.read(this.appId);
      if (shared) {
        const blockedForMs = Math.min(shared.blockedForMs, MAX_BLOCK_SECONDS * 1000);
        this.blockedUntil = Math.max(this.blockedUntil, Date.now() + blockedForMs);
      }
      if (this.readFailing) this.logger.log('The shared GitHub rate limit can be read again');
      this.readFailing = false;
    } catch (error) {
      // Fail open: a database hiccup must not stop every call to GitHub.
      if (!this.readFailing) {
        this.logger.warn(
          `Could not read the shared GitHub rate limit (going on with this instance's own view): ${(error as Error).message}`,
        );
      }
      this.readFailing = true;
    } finally {
      this.refreshedAt = Date.now();
    }
  }
}

function parseInteger(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
