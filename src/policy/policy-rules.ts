import { OWNER_CLAIMS, PUBLIC_GITHUB_ACTIONS_ISSUER, SHORTHAND_ISSUER_NAME } from './policy-issuers.js';
import { type PathSegment, problemAt } from './policy-problems.js';
import type { RawClaimCondition, RawPattern, RawRule, RawValue } from './policy.schema.js';
import { type ClaimCondition, type Grant, type LabelMatcher, type PolicyRule, RUN_LABEL_PATTERN, type TrustedIssuer, type ValueMatcher } from './policy.types.js';
import { compileWholeValuePattern } from '../common/whole-value-pattern.js';

// Shared with KNOWN_RUNNER_NAMES (config): one definition of a safe whole-value pattern.
export { compileWholeValuePattern, hasNestedQuantifier } from '../common/whole-value-pattern.js';

/** What the rules are checked against: the merged issuers, and whether the file replaced the shorthand's. */
export interface RuleContext {
  data: unknown;
  issuers: readonly TrustedIssuer[];
  shorthandOverriddenBy?: string;
  problems: string[];
}

/** The file's rules, compiled and checked; every problem is added to `context.problems`. */
export function buildRules(raw: readonly RawRule[], context: RuleContext): PolicyRule[] {
  const firstIndex = new Map<string, number>();
  return raw.map((rule, index) => {
    const earlier = firstIndex.get(rule.name);
    if (earlier !== undefined) {
      context.problems.push(problemAt(context.data, ['rules', index, 'name'], `is also the name of rules[${earlier}]`));
    } else {
      firstIndex.set(rule.name, index);
    }
    return buildRule(rule, index, context);
  });
}

function buildRule(raw: RawRule, index: number, context: RuleContext): PolicyRule {
  const at = (segments: PathSegment[], message: string) =>
    context.problems.push(problemAt(context.data, ['rules', index, ...segments], message));
  const issuer = resolveIssuer(raw.issuer, context);
  if (!issuer) at(['issuer'], describeUnknownIssuer(raw.issuer, context));
  const claims = Object.entries(raw.claims ?? {})
    .map(([path, condition]) => ({
      path,
      matcher: compileCondition(condition, (segments, message) => at(['claims', path, ...segments], message)),
    }))
    // Exact values first, patterns last: a token of another account fails on its owner before any
    // pattern runs on a value its workflow chose (a branch name, say).
    .sort((a, b) => Number(usesPattern(a.matcher)) - Number(usesPattern(b.matcher)));
  if (claims.length === 0) {
    at(
      ['claims'],
      `a rule needs at least one claim condition: without one it would match every token of issuer ${issuer ? `"${issuer.name}"` : JSON.stringify(raw.issuer)} (as Vault refuses a role without bound claims)`,
    );
  }
  if (issuer?.publicIssuer) checkPublicIssuerRule(claims, issuer, at);
  const grant = buildGrant(raw.grant, (segments, message) => at(['grant', ...segments], message));
  if (grant.bindToRun) checkBindToRun(raw, issuer, at);
  return { name: raw.name, issuer: issuer?.name ?? raw.issuer, claims, grant };
}

/** A rule names its issuer by name, or by the `iss` its tokens carry. */
function resolveIssuer(reference: string, context: RuleContext): TrustedIssuer | undefined {
  return context.issuers.find((issuer) => issuer.name === reference) ?? context.issuers.find((issuer) => issuer.issuer === reference);
}

function describeUnknownIssuer(reference: string, context: RuleContext): string {
  const known = context.issuers.map((issuer) => issuer.name);
  const listed = known.length > 0 ? `known: ${known.join(', ')}` : 'no issuer is defined: add issuers, or set OIDC_ISSUER';
  if (reference === SHORTHAND_ISSUER_NAME && context.shorthandOverriddenBy) {
    return `"${SHORTHAND_ISSUER_NAME}" (the OIDC_ISSUER shorthand) is defined in this file as "${context.shorthandOverriddenBy}": name that instead`;
  }
  return `no issuer is named ${JSON.stringify(reference)} or has it as iss (${listed})`;
}

type Report = (segments: PathSegment[], message: string) => void;

function usesPattern(matcher: ValueMatcher): boolean {
  if (matcher.kind === 'pattern') return true;
  if (matcher.kind === 'any') return matcher.of.some(usesPattern);
  return matcher.kind === 'contains' && usesPattern(matcher.item);
}

function compileCondition(condition: RawClaimCondition, report: Report): ValueMatcher {
  if (Array.isArray(condition)) {
    return { kind: 'any', of: condition.map((item, index) => compileValue(item, (segments, message) => report([index, ...segments], message))) };
  }
  if (typeof condition === 'object' && 'contains' in condition) {
    return { kind: 'contains', item: compileValue(condition.contains, (segments, message) => report(['contains', ...segments], message)) };
  }
  return compileValue(condition, report);
}

function compileValue(value: RawValue | RawPattern, report: Report): ValueMatcher {
  if (typeof value !== 'object') return { kind: 'exact', value };
  const regex = compileWholeValuePattern(value.pattern);
  if (typeof regex === 'string') {
    report(['pattern'], regex);
    return { kind: 'pattern', source: value.pattern, regex: /(?!)/ };
  }
  return { kind: 'pattern', source: value.pattern, regex };
}

/**
 * Anyone's workflow on github.com can get a token of this issuer for our audience, so a rule must tie
 * the token to an account by exact value: a pattern (even `my-org`) would be one typo away from `.*`.
 * Every GitHub Actions claim is a string; a number in the file would never match one.
 */
function checkPublicIssuerRule(claims: ClaimCondition[], issuer: TrustedIssuer, at: Report): void {
  for (const { path, matcher } of claims) {
    for (const [segments, value] of exactValues(matcher)) {
      if (typeof value !== 'string') {
        at(['claims', path, ...segments], `GitHub Actions tokens carry every claim as a string: write ${JSON.stringify(String(value))} in quotes`);
      }
    }
  }
  const owners = claims.filter(({ path }) => (OWNER_CLAIMS as readonly string[]).includes(path));
  if (owners.some(({ matcher }) => isExactStrings(matcher))) return;
  const why = `any workflow on github.com can get a token of issuer "${issuer.name}" (${issuer.issuer}) for any audience`;
  if (owners.length > 0) {
    for (const { path } of owners) at(['claims', path], `must be a non-empty exact value or a list of them, not a pattern: ${why}`);
    return;
  }
  at(['claims'], `must bind repository_owner or repository_owner_id to exact values: ${why}`);
}

function exactValues(matcher: ValueMatcher, segments: PathSegment[] = []): Array<[PathSegment[], RawValue]> {
  switch (matcher.kind) {
    case 'exact':
      return [[segments, matcher.value]];
    case 'any':
      return matcher.of.flatMap((item, index) => exactValues(item, [...segments, index]));
    case 'contains':
      return exactValues(matcher.item, [...segments, 'contains']);
    case 'pattern':
      return [];
  }
}

function isExactStrings(matcher: ValueMatcher): boolean {
  if (matcher.kind === 'exact') return typeof matcher.value === 'string' && matcher.value !== '';
  if (matcher.kind === 'any') return matcher.of.every(isExactStrings);
  return false;
}

function checkBindToRun(raw: RawRule, issuer: TrustedIssuer | undefined, at: Report): void {
  if (issuer && !issuer.publicIssuer) {
    at(['grant', 'bind_to_run'], `is for GitHub Actions tokens only (issuer ${PUBLIC_GITHUB_ACTIONS_ISSUER}), which carry run_id and run_attempt; issuer "${issuer.name}" is not that issuer`);
  }
  if (raw.grant.labels !== undefined) {
    at(['grant', 'bind_to_run'], 'cannot be combined with grant.labels: a bound runner carries exactly one label, run-<run_id>-<run_attempt>');
  }
  if (raw.grant.registration_tokens === true) {
    at(['grant', 'bind_to_run'], 'cannot be combined with registration_tokens: config.sh registers whatever labels its caller gives, so a registration token binds nothing');
  }
}

function buildGrant(raw: RawRule['grant'], report: Report): Grant {
  const allowed = (raw.labels?.allowed ?? []).map((item, index): LabelMatcher => {
    if (typeof item === 'string') return { kind: 'exact', value: item.toLowerCase() };
    // Labels are case-insensitive (the service lower-cases them), so are the patterns that allow them.
    const regex = compileWholeValuePattern(item.pattern, 'iu');
    if (typeof regex === 'string') {
      report(['labels', 'allowed', index, 'pattern'], regex);
      return { kind: 'pattern', source: item.pattern, regex: /(?!)/ };
    }
    return { kind: 'pattern', source: item.pattern, regex };
  });
  const required = [...new Set((raw.labels?.required ?? []).map((label) => label.toLowerCase()))];
  required.forEach((label, index) => {
    if (RUN_LABEL_PATTERN.test(label)) {
      report(['labels', 'required', index], `"${label}" is reserved: run-<run_id>-<run_attempt> labels come only from bind_to_run`);
    }
  });
  return {
    labels: { required, allowed },
    runnerGroups: raw.runner_groups ? [...raw.runner_groups] : null,
    maxRunners: raw.max_runners ?? null,
    maxRunnersPerIdentity: raw.max_runners_per_identity ?? null,
    registrationTokens: raw.registration_tokens ?? false,
    admin: raw.admin ?? false,
    bindToRun: raw.bind_to_run ?? false,
  };
}
