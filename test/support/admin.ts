/**
 * Admins for the admin API's tests.
 *
 * TEMPORARY: the policy evaluator (POLICY_FILE with a rule that grants `admin: true`) is being
 * written at the same time as the admin API, and today's PolicyService grants admin to nobody. Until
 * it lands, these tests replace PolicyService with a subclass that grants admin to chosen subjects;
 * then they should load a policy file with an admin rule instead.
 */
import type { Type } from '@nestjs/common';
import type { Actor } from '../../src/auth/actor.js';
import { PolicyService } from '../../src/policy/policy.service.js';
import type { ProviderOverride } from './app.js';

/** A PolicyService whose isAdmin (and so requireAdmin) says yes to these subjects only. */
export function policyGrantingAdminTo(...subjects: string[]): Type<PolicyService> {
  return class PolicyGrantingAdmin extends PolicyService {
    override isAdmin(actor: Actor): boolean {
      return actor.kind === 'user' && subjects.includes(actor.subject);
    }
  };
}

/** The override for startTestApp({ providerOverrides }). */
export function adminsAre(...subjects: string[]): ProviderOverride {
  return { provide: PolicyService, useClass: policyGrantingAdminTo(...subjects) };
}
