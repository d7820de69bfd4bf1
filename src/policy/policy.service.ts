import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { PolicyStore } from './policy.store.js';
import type { DecisionSettings, PolicyRule, ProvisionAsk, ProvisionDecision } from './policy.types.js';

/** Which rule matched a caller: the rule (null without a policy file), or why none did. */
export type RuleMatch =
  | { matched: true; rule: PolicyRule | null; matchedClaims: Record<string, unknown> }
  | { matched: false; considered: string[] };

/**
 * Authorization: what the policy in force grants an actor. SKELETON: the evaluator fills these in;
 * the signatures are what provisioning, /me and the admin API call.
 */
@Injectable()
export class PolicyService {
  constructor(private readonly store: PolicyStore) {}

  /** The rule that matches the actor (first match wins), or the claims considered when none did. */
  match(actor: Actor): RuleMatch {
    if (this.store.current().rules === null) return { matched: true, rule: null, matchedClaims: {} };
    return { matched: false, considered: Object.keys(actor.claims) };
  }

  /** Allows or refuses a provisioning request; quotas and suspensions are checked later, against the database. */
  decideProvision(actor: Actor, ask: ProvisionAsk, settings: DecisionSettings): ProvisionDecision {
    const match = this.match(actor);
    if (!match.matched) {
      return {
        allowed: false,
        rule: null,
        code: 'POLICY_NO_MATCH',
        message: 'No policy rule matches your token',
        matchedClaims: {},
        reasons: [],
      };
    }
    return {
      allowed: true,
      rule: null,
      labels: [...new Set([...settings.systemLabels, ...ask.labels])],
      runnerGroupId: ask.runnerGroupId ?? settings.defaultRunnerGroupId,
      limits: { maxRunners: null, maxRunnersPerIdentity: null },
      matchedClaims: {},
      reasons: [],
    };
  }

  /** Admin rights come only from a rule of a policy file that grants `admin: true`. */
  isAdmin(actor: Actor): boolean {
    const match = this.match(actor);
    return match.matched && match.rule !== null && match.rule.grant.admin;
  }

  /** Throws FORBIDDEN unless the actor is an admin. */
  requireAdmin(actor: Actor): void {
    if (!this.isAdmin(actor)) {
      throw new DomainError(ERROR_CODES.FORBIDDEN, 'This needs an identity that the policy grants admin: true');
    }
  }
}
