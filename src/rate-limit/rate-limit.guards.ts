import { createHash } from 'node:crypto';
import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import type { AuthenticatedRequest } from '../auth/oidc-auth.guard.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { isUnlimitedPath } from './unlimited-paths.js';

/** The names of the two limits in ThrottlerModule's options. */
export const IP_LIMIT = 'ip';
export const IDENTITY_LIMIT = 'identity';
export type RateLimitName = typeof IP_LIMIT | typeof IDENTITY_LIMIT;

const WHO: Record<RateLimitName, string> = {
  [IP_LIMIT]: 'from your address',
  [IDENTITY_LIMIT]: 'for your identity',
};

/**
 * ThrottlerGuard for one of the named limits (ThrottlerModule holds both; a limit of 0 is off). One
 * count per caller across every route, not one per route as the library's default key: a flood
 * spread over routes counts whole. Unlimited paths are skipped; a refusal is 429 RATE_LIMITED in the
 * API's error shape, with Retry-After in whole seconds (set by the exception filter).
 */
abstract class CallerRateLimitGuard extends ThrottlerGuard {
  protected abstract readonly limitName: RateLimitName;

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.throttlers = this.throttlers.filter(
      (throttler) => throttler.name === this.limitName && typeof throttler.limit === 'number' && throttler.limit > 0,
    );
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return this.throttlers.length === 0 || isUnlimitedPath(context.switchToHttp().getRequest<Request>().path);
  }

  /** Hashed: a caller's key is 64 characters in memory, however long its subject. */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return createHash('sha256').update(`${name}\n${tracker}`).digest('hex');
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const seconds = Math.max(1, detail.timeToBlockExpire);
    throw new DomainError(
      ERROR_CODES.RATE_LIMITED,
      `Too many requests ${WHO[this.limitName]}: at most ${detail.limit} a minute. Retry after ${seconds} seconds`,
      { limit: this.limitName, limit_per_minute: detail.limit, retry_after_seconds: seconds },
    );
  }
}

/**
 * Per client address (req.ip, as TRUST_PROXY reads it; IPv6 by /64), before authentication: a flood
 * of forged tokens is cut before any signature check, key fetch or audit write. Public routes (the
 * GitHub webhook) are limited by this one only.
 */
@Injectable()
export class ClientIpRateLimitGuard extends CallerRateLimitGuard {
  protected readonly limitName = IP_LIMIT;
}

/**
 * Per identity (issuer + subject; the local user when authentication is off), after authentication
 * and before any other guard or handler, so refused requests past the limit write no audit rows.
 * Routes without a caller (public ones) are left to the address limit.
 */
@Injectable()
export class IdentityRateLimitGuard extends CallerRateLimitGuard {
  protected readonly limitName = IDENTITY_LIMIT;

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
    return actor === undefined || (await super.shouldSkip(context));
  }

  // The request as the library types it.
  protected override async getTracker(request: Record<string, any>): Promise<string> {
    const actor = (request as AuthenticatedRequest).actor;
    return actor ? `${actor.issuer}\n${actor.subject}` : '';
  }
}
