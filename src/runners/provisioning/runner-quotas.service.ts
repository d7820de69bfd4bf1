import { Injectable } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import type { Transaction } from '../../database/transactions.service.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import { RunnersRepository } from '../runners.repository.js';

/** How many live runners count against each limit a grant sets, now. */
export interface QuotaUsage {
  /** The caller's live runners (any rule). */
  identity: number;
  /** Live runners of everyone the rule matched; null without a rule. */
  rule: number | null;
}

/**
 * The grant's runner limits. A runner counts while it is not deleted or failed, whatever GitHub
 * calls it. Checked in the transaction that inserts the runner, under advisory locks (the rule's
 * first, then the identity's, always in that order), so concurrent requests cannot both take the
 * last place: 20 simultaneous requests against a limit of 5 give exactly 5 runners.
 */
@Injectable()
export class RunnerQuotas {
  constructor(private readonly runners: RunnersRepository) {}

  /** Whether enforce has anything to count for a caller matched by `rule` with these limits. */
  anyToCount(rule: string | null, limits: QuotaLimits): boolean {
    return (rule !== null && limits.maxRunners !== null) || limits.maxRunnersPerIdentity !== null;
  }

  /** Throws QUOTA_EXCEEDED when one more runner would pass a limit; holds the locks until `tx` ends. */
  async enforce(tx: Transaction, actor: Actor, rule: string | null, limits: QuotaLimits): Promise<void> {
    const { maxRunners, maxRunnersPerIdentity } = limits;
    if (rule !== null && maxRunners !== null) {
      await this.runners.lockForCounting(tx, `rts:quota:rule:${rule}`);
    }
    if (maxRunnersPerIdentity !== null) {
      await this.runners.lockForCounting(tx, `rts:quota:identity:${actor.issuer}\n${actor.subject}`);
    }
    if (rule !== null && maxRunners !== null) {
      const current = await this.runners.countLiveByRule(tx, rule);
      if (current >= maxRunners) {
        throw exceeded(
          'max_runners',
          maxRunners,
          current,
          `policy rule "${rule}" allows ${maxRunners} runners for everyone it matches together (max_runners), and ${current} exist`,
          rule,
        );
      }
    }
    if (maxRunnersPerIdentity !== null) {
      const current = await this.runners.countLiveOwnedBy(tx, actor);
      if (current >= maxRunnersPerIdentity) {
        const source = rule === null ? 'this service' : `policy rule "${rule}"`;
        throw exceeded(
          'max_runners_per_identity',
          maxRunnersPerIdentity,
          current,
          `${source} allows you ${maxRunnersPerIdentity} runners (max_runners_per_identity), and you have ${current}`,
          rule,
        );
      }
    }
  }

  /** What counts against the limits now (for GET /me); no locks, so it may be a moment old. */
  async usage(tx: Transaction, actor: Actor, rule: string | null): Promise<QuotaUsage> {
    return {
      identity: await this.runners.countLiveOwnedBy(tx, actor),
      rule: rule === null ? null : await this.runners.countLiveByRule(tx, rule),
    };
  }
}

function exceeded(limit: string, max: number, current: number, what: string, rule: string | null): DomainError {
  return new DomainError(
    ERROR_CODES.QUOTA_EXCEEDED,
    `Quota exceeded: ${what}; delete a runner you no longer need (DELETE /api/v1/runners/{id}) or wait until one finishes`,
    { limit, max, current, ...(rule !== null && { rule }) },
  );
}
