import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { isDatabaseUnavailable } from '../database/database-errors.js';
import { Actor } from './actor.js';
import type { TokenRejectionReason } from './auth-errors.js';

/** At most one audited rejection per reason in this long, per process: a flood of bad tokens writes a trickle. */
export const REJECTION_SAMPLE_INTERVAL_MS = 1_000;
/** Unverified claims are the caller's words: kept short in the trail. */
export const MAX_UNVERIFIED_CLAIM_LENGTH = 256;

/** Who sent a refused token, as far as anyone can tell: nobody verified. */
export const ANONYMOUS_NAME = 'anonymous';

export interface RejectedToken {
  reason: TokenRejectionReason;
  /** The token's payload as sent (unverified), or null when it could not be decoded. */
  unverifiedClaims: Record<string, unknown> | null;
  origin: { requestId?: string; sourceIp?: string };
}

/**
 * Writes a sample of refused tokens to the audit trail: action `authenticate`, outcome `denied`,
 * details `{ reason, iss, sub }` with the token's unverified `iss` and `sub` (strings only, NUL-free and cut
 * to 256 characters). The actor is anonymous (issuer '', subject and name 'anonymous'): nothing about
 * the token is proven, so it is never filed under the identity it names. A failed write is logged
 * and never changes the answer.
 */
@Injectable()
export class RejectedTokenAudit {
  private readonly logger = new Logger(RejectedTokenAudit.name);
  private readonly lastWrittenAt = new Map<TokenRejectionReason, number>();

  constructor(private readonly audit: AuditService) {}

  async record(rejected: RejectedToken, now = Date.now()): Promise<void> {
    const last = this.lastWrittenAt.get(rejected.reason);
    if (last !== undefined && now - last < REJECTION_SAMPLE_INTERVAL_MS) return;
    this.lastWrittenAt.set(rejected.reason, now);
    const iss = unverifiedString(rejected.unverifiedClaims?.iss);
    const sub = unverifiedString(rejected.unverifiedClaims?.sub);
    // The unverified iss and sub go in the details only: as the actor, a forged token would file
    // events under a real identity (and its --user filter).
    const actor = new Actor('user', '', ANONYMOUS_NAME, ANONYMOUS_NAME, rejected.origin.requestId, rejected.origin.sourceIp);
    try {
      await this.audit.recordAlone(actor, {
        action: 'authenticate',
        outcome: 'denied',
        details: { reason: rejected.reason, ...(iss !== undefined && { iss }), ...(sub !== undefined && { sub }) },
      });
    } catch (error) {
      // An unreachable database is an outage (logged as such), not a fault here: the 401 stands either way.
      const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
      this.logger[level](
        `Could not audit a refused token (request ${rejected.origin.requestId ?? '-'}, reason ${rejected.reason}): ${
          (error as Error).message
        }`,
      );
    }
  }
}

/** PostgreSQL text cannot hold NUL, so it is dropped rather than failing the write. */
function unverifiedString(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replaceAll('\0', '').slice(0, MAX_UNVERIFIED_CLAIM_LENGTH) : undefined;
}
