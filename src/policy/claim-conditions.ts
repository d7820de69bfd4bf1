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
 * `{"kubernetes.io": {"namespace": …}}` in its tokens), so every way of splitting the path into keys
 * is tried: `kubernetes.io.namespace` finds `claims["kubernetes.io"]["namespace"]`, and also
 * `claims["kubernetes.io.namespace"]`. When more than one split finds a value, the path is
 * ambiguous and counts as not found: a token that carries both shapes chose which one a rule would
 * read. Only own keys count, so `constructor` or `__proto__` never reach into the prototype.
 */
export function resolveClaim(claims: unknown, path: string): ResolvedClaim {
  const found = resolveAll(claims, path.split('.'), 2);
  return found.length === 1 ? { found: true, value: found[0] } : NOT_FOUND;
}

/** The values at every split of `parts`, stopping once `enough` are found. */
function resolveAll(node: unknown, parts: readonly string[], enough: number): unknown[] {
  if (parts.length === 0) return [node];
  if (!isRecord(node)) return [];
  const found: unknown[] = [];
  for (let take = parts.length; take >= 1 && found.length < enough; take--) {
    const key = parts.slice(0, take).join('.');
    if (Object.hasOwn(node, key)) found.push(...resolveAll(node[key], parts.slice(take), enough - found.length));
  }
  return found;
}

/** A number or boolean claim is matched by patterns through its JSON text (`5`, `true`). */
function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return null;
}

/** A claim value longer than this never matches a pattern. */
export const MAX_PATTERN_TEXT_LENGTH = 1024;

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
      // Patterns are checked for the worst backtracking when the policy loads; a cap on the text
      // bounds what is left (real claim values are far shorter).
      return text !== null && text.length <= MAX_PATTERN_TEXT_LENGTH && matcher.regex.test(text);
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
