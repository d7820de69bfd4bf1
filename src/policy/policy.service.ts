import { Inject, Injectable } from '@nestjs/common';
import { type Actor, LOCAL_ISSUER } from '../auth/actor.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { decideProvision, matchRule } from './policy.evaluator.js';
import { PolicyStore } from './policy.store.js';
import type { DecisionSettings, Policy, PolicyCaller, ProvisionAsk, ProvisionDecision, RuleMatch } from './policy.types.js';

export type { RuleMatch } from './policy.types.js';

/** What "no policy file" means: rules null, so any caller gets the seed's grant. */
const NO_RULES: Pick<Policy, 'rules'> = { rules: null };

/**
 * Authorization: what the policy in force grants an actor. Each call reads the policy once, so a
 * reload in between never mixes two policies in one decision.
 *
 * With ENABLE_OIDC_AUTH=false every request is the local identity, which is not an OIDC caller: it
 * gets the grant of "no policy file" (any labels, the default group, no limits) whether or not a
 * policy file is loaded, and is never an admin. The loader warns about this at start.
 */
@Injectable()
export class PolicyService {
  constructor(
    private readonly store: PolicyStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The rule that matches the actor (first match wins), or the claims considered when none did. */
  match(actor: Actor): RuleMatch {
    return matchRule(this.policyFor(actor), callerOf(actor));
  }

  /** Allows or refuses a provisioning request; quotas and suspensions are checked later, against the database. */
  decideProvision(actor: Actor, ask: ProvisionAsk, settings: DecisionSettings): ProvisionDecision {
    return decideProvision(this.policyFor(actor), callerOf(actor), ask, settings);
  }

  /** The name of the rule that matches the actor; null when none does, or without a policy file. */
  ruleNameOf(actor: Actor): string | null {
    const match = this.match(actor);
    return match.matched ? (match.rule?.name ?? null) : null;
  }

  /** Admin rights come only from a rule of a policy file that grants `admin: true`; never from its absence. */
  isAdmin(actor: Actor): boolean {
    if (this.isLocal(actor)) return false;
    const match = this.match(actor);
    return match.matched && match.rule !== null && match.rule.grant.admin;
  }

  /** Throws FORBIDDEN unless the actor is an admin. */
  requireAdmin(actor: Actor): void {
    if (!this.isAdmin(actor)) {
      throw new DomainError(ERROR_CODES.FORBIDDEN, 'This needs an identity that the policy grants admin: true');
    }
  }

  private policyFor(actor: Actor): Policy {
    const policy = this.store.current();
    return this.isLocal(actor) ? { ...policy, ...NO_RULES } : policy;
  }

  /** The fixed development identity: only when authentication is off, so no token can pose as it. */
  private isLocal(actor: Actor): boolean {
    return !this.config.auth.enabled && actor.issuer === LOCAL_ISSUER && actor.issuerName === null;
  }
}

function callerOf(actor: Actor): PolicyCaller {
  return { issuer: actor.issuer, issuerName: actor.issuerName, claims: actor.claims };
}
