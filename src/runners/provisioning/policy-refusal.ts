import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import type { ProvisionDecision } from '../../policy/policy.types.js';

type Refusal = Extract<ProvisionDecision, { allowed: false }>;

/**
 * The policy's refusal as the caller's error: a 403 with its own code, or a 400 VALIDATION_FAILED
 * in the shape of every other validation error (one violation on the field).
 */
export function policyRefusal(decision: Refusal): DomainError {
  const rule = decision.rule === null ? {} : { rule: decision.rule };
  if (decision.code === 'VALIDATION_FAILED') {
    const field = decision.field ?? 'request';
    return new DomainError(ERROR_CODES.VALIDATION_FAILED, decision.message, {
      violations: [{ field, message: decision.message }],
      ...rule,
    });
  }
  return new DomainError(ERROR_CODES[decision.code], decision.message, rule);
}
