import type { ClaimCondition, ValueMatcher } from './policy.types.js';

/**
 * How a rule's claim conditions read a token's claims. Pure: no I/O, no clock.
 */

export type ResolvedClaim = { found: true; value: unknown } | { found: false };

const NOT_FOUND: ResolvedClaim = { found: false };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value at a dotted path. Claim names may hold dots themselves (Kubernetes puts
 * `{"kubernetes.io": {"namespace": …}}` in its tokens), so at each level the longest run of parts
 * that is a key of that level is tried first, then shorter ones: `kubernetes.io.namespace` finds
 * `claims["kubernetes.io"]["namespace"]`, and also `claims["kubernetes.io.namespace"]`. Only own
 * keys count, so `constructor` or `__proto__` never reach into the object's prototype.
 */
export function resolveClaim(claims: unknown, path: string): ResolvedClaim {
  return resolveParts(claims, path.split('.'));
}

function resolveParts(node: unknown, parts: readonly string[]): ResolvedClaim {
  if (parts.length === 0) return { found: true, value: node };
  if (!isRecord(node)) return NOT_FOUND;
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    if (!Object.hasOwn(node, key)) continue;
    const resolved = resolveParts(node[key], parts.slice(take));
    if (resolved.found) return resolved;
  }
  return NOT_FOUND;
}

/** A number or boolean claim is matched by patterns through its JSON text (`5`, `true`). */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return null;
}

/**
 * Whether a claim's value satisfies a matcher. Exact values compare as JSON, so types must agree:
 * the string "1234567" is not the number 1234567, and an array claim never equals a single value
 * (use `contains`). Patterns are anchored at compile time.
 */
export function matchesValue(matcher: ValueMatcher, value: unknown): boolean {
  switch (matcher.kind) {
    case 'exact':
      if (typeof value === 'string' || typeof matcher.value === 'string') return value === matcher.value;
      return value !== undefined && JSON.stringify(value) === JSON.stringify(matcher.value);
    case 'pattern': {
      const text = textOf(value);
      return text !== null && matcher.regex.test(text);
    }
    case 'any':
      return matcher.of.some((item) => matchesValue(item, value));
    case 'contains':
      return Array.isArray(value) && value.some((item) => matchesValue(matcher.item, item));
  }
}

/** Why one condition failed, naming the claim and never its value; null when it holds. */
export type ConditionOutcome = { holds: true; looked: Record<string, unknown> } | { holds: false; why: string };

const EMAIL = 'email';
const EMAIL_VERIFIED = 'email_verified';

/**
 * One condition against the claims. An `email` condition holds only when the token either says
 * nothing about verification or says `email_verified: true`: an issuer that reports an unverified
 * address is not vouching for it.
 */
export function checkCondition(condition: ClaimCondition, claims: Readonly<Record<string, unknown>>): ConditionOutcome {
  const resolved = resolveClaim(claims, condition.path);
  if (!resolved.found) return { holds: false, why: `the token has no ${condition.path} claim` };
  if (!matchesValue(condition.matcher, resolved.value)) return { holds: false, why: `${condition.path} does not match` };
  const looked: Record<string, unknown> = { [condition.path]: resolved.value };
  if (condition.path === EMAIL && Object.hasOwn(claims, EMAIL_VERIFIED)) {
    if (claims[EMAIL_VERIFIED] !== true) return { holds: false, why: `${EMAIL} does not count: the token's ${EMAIL_VERIFIED} is not true` };
    looked[EMAIL_VERIFIED] = true;
  }
  return { holds: true, looked };
}

/** The claim names a rule's conditions look at, in order, without repeats. */
export function claimNamesOf(conditions: readonly ClaimCondition[]): string[] {
  return conditions.flatMap((condition) => (condition.path === EMAIL ? [EMAIL, EMAIL_VERIFIED] : [condition.path]));
}
