import { MAX_LABELS } from '../runners/runner-input.rules.js';
import { checkCondition, claimNamesOf } from './claim-conditions.js';
import {
  type DecisionSettings,
  type Grant,
  type LabelMatcher,
  type Policy,
  type PolicyCaller,
  type PolicyRefusalCode,
  type PolicyRule,
  type ProvisionAsk,
  type ProvisionDecision,
  RUN_LABEL_PATTERN,
  type RuleMatch,
} from './policy.types.js';

/**
 * The policy's answers, as pure functions of the policy, the caller's verified claims and the
 * request: no I/O, no clock. Quotas and suspensions need the database and are checked afterwards.
 */

const RUN_CLAIMS = ['run_id', 'run_attempt'] as const;
const DIGITS = /^\d{1,20}$/;

type Refusal = Extract<ProvisionDecision, { allowed: false }>;

/** The first rule, in the file's order, whose issuer is the caller's and whose conditions all hold. */
export function matchRule(policy: Policy, caller: PolicyCaller): RuleMatch {
  if (policy.rules === null) return { matched: true, rule: null, matchedClaims: {} };
  const issuerName = caller.issuerName ?? policy.issuers.find((issuer) => issuer.issuer === caller.issuer)?.name;
  const candidates = policy.rules.filter((rule) => rule.issuer === issuerName);
  const considered = [...new Set(candidates.flatMap(claimNamesConsidered))];
  if (issuerName === undefined) return { matched: false, considered, reasons: ["the token's issuer is not one of the policy's issuers"] };
  if (candidates.length === 0) return { matched: false, considered, reasons: [`no rule is for issuer "${issuerName}"`] };
  const reasons: string[] = [];
  for (const rule of candidates) {
    const outcome = evaluateRule(rule, caller.claims);
    if (outcome.holds) return { matched: true, rule, matchedClaims: outcome.looked };
    reasons.push(`rule "${rule.name}": ${outcome.why}`);
  }
  return { matched: false, considered, reasons };
}

function claimNamesConsidered(rule: PolicyRule): string[] {
  return [...claimNamesOf(rule.claims), ...(rule.grant.bindToRun ? RUN_CLAIMS : [])];
}

function evaluateRule(
  rule: PolicyRule,
  claims: Readonly<Record<string, unknown>>,
): { holds: true; looked: Record<string, unknown> } | { holds: false; why: string } {
  const looked: Record<string, unknown> = {};
  for (const condition of rule.claims) {
    const outcome = checkCondition(condition, claims);
    if (!outcome.holds) return outcome;
    Object.assign(looked, outcome.looked);
  }
  // A bound runner's label comes from the job's run: a token without one cannot use this rule.
  if (rule.grant.bindToRun) {
    for (const name of RUN_CLAIMS) {
      const value = claims[name];
      if (typeof value !== 'string' || !DIGITS.test(value)) {
        return { holds: false, why: `bind_to_run needs the ${RUN_CLAIMS.join(' and ')} claims of a GitHub Actions job; the token's ${name} is missing or not a number` };
      }
      looked[name] = value;
    }
  }
  return { holds: true, looked };
}

/** `run-<run_id>-<run_attempt>`: the one label of a runner bound to a workflow run. */
export function runLabel(claims: Readonly<Record<string, unknown>>): string {
  return `run-${String(claims.run_id)}-${String(claims.run_attempt)}`;
}

function reservedLabel(requested: readonly string[]): string | undefined {
  return requested.find((label) => RUN_LABEL_PATTERN.test(label));
}

function reservedLabelMessage(label: string): string {
  return `Label "${label}" is reserved: labels of the form run-<run_id>-<run_attempt> bind a runner to one workflow run, and only a bind_to_run grant gives them (for the caller's own run); leave it out`;
}

/**
 * Allows or refuses a provisioning request (labels already normalised: trimmed, lower-cased). Every
 * decision says, one line each, why; a refusal's message is for the caller and names what refused.
 */
export function decideProvision(policy: Policy, caller: PolicyCaller, ask: ProvisionAsk, settings: DecisionSettings): ProvisionDecision {
  const match = matchRule(policy, caller);
  if (!match.matched) {
    const names = match.considered.length > 0 ? `; the rules for it look at the claims ${match.considered.join(', ')}` : '';
    return refuse(null, 'POLICY_NO_MATCH', `No policy rule matches your token${names}`, {}, match.reasons);
  }
  if (match.rule === null) return decideWithoutPolicy(ask, settings);
  return decideWithRule(match.rule, match.matchedClaims, caller, ask, settings);
}

function refuse(
  rule: string | null,
  code: PolicyRefusalCode,
  message: string,
  matchedClaims: Record<string, unknown>,
  reasons: string[],
  field?: string,
): Refusal {
  return { allowed: false, rule, code, message, ...(field ? { field } : {}), matchedClaims, reasons: [...reasons, message] };
}

/** The seed's behaviour: any labels after the system labels, the configured group only, no limits. */
function decideWithoutPolicy(ask: ProvisionAsk, settings: DecisionSettings): ProvisionDecision {
  const reasons = ['no policy file: any authenticated caller may have runners with any labels in the default runner group'];
  const groupId = settings.defaultRunnerGroupId;
  if (ask.runnerGroupId !== undefined && ask.runnerGroupId !== groupId) {
    const message = `runner_group_id must be ${groupId}: this service registers runners in runner group ${groupId} only`;
    return refuse(null, 'VALIDATION_FAILED', message, {}, reasons, 'runner_group_id');
  }
  const reserved = reservedLabel(ask.labels);
  if (reserved !== undefined) return refuse(null, 'LABEL_NOT_ALLOWED', reservedLabelMessage(reserved), {}, reasons);
  const labels = [...new Set([...settings.systemLabels, ...ask.labels])];
  if (labels.length > MAX_LABELS) return refuse(null, 'VALIDATION_FAILED', tooManyLabels(settings.systemLabels.length, 0), {}, reasons, 'labels');
  return {
    allowed: true,
    rule: null,
    labels,
    runnerGroupId: groupId,
    limits: { maxRunners: null, maxRunnersPerIdentity: null },
    matchedClaims: {},
    reasons: [...reasons, `labels: ${labels.join(', ')}`, `runner group ${groupId}: the configured default`, 'no runner limits'],
  };
}

function tooManyLabels(systemCount: number, requiredCount: number): string {
  const fixed = systemCount + requiredCount;
  const which = requiredCount > 0 ? `the ${systemCount} system labels and the rule's ${requiredCount} required labels` : `the ${systemCount} system labels`;
  return `labels must hold at most ${MAX_LABELS - fixed} labels besides ${which} (GitHub allows ${MAX_LABELS} in all)`;
}

function decideWithRule(
  rule: PolicyRule,
  matchedClaims: Record<string, unknown>,
  caller: PolicyCaller,
  ask: ProvisionAsk,
  settings: DecisionSettings,
): ProvisionDecision {
  const grant = rule.grant;
  const reasons = [`rule "${rule.name}" of issuer "${rule.issuer}" matched on ${Object.keys(matchedClaims).join(', ')}`];
  const deny = (code: PolicyRefusalCode, message: string, field?: string) => refuse(rule.name, code, message, matchedClaims, reasons, field);
  if (ask.kind === 'registration_token') {
    if (!grant.registrationTokens) {
      return deny(
        'REGISTRATION_TOKENS_NOT_ALLOWED',
        `Rule "${rule.name}" does not grant registration tokens (registration_tokens: true): ask for a JIT runner config (POST /runners/jit) instead`,
      );
    }
    reasons.push('registration tokens: granted by the rule (config.sh takes whatever labels its caller gives: the labels below are what the service records)');
  }
  let labels: string[];
  if (grant.bindToRun) {
    const label = runLabel(caller.claims);
    if (ask.labels.length > 0) {
      return deny(
        'VALIDATION_FAILED',
        `labels must be left out: rule "${rule.name}" binds the runner to your workflow run, so it is registered with exactly one label, ${label}, and no other (any other label would let it take other jobs)`,
        'labels',
      );
    }
    labels = [label];
    reasons.push(`labels: only ${label}, bound to run ${String(caller.claims.run_id)} attempt ${String(caller.claims.run_attempt)} (bind_to_run)`);
  } else {
    const chosen = chooseLabels(rule, ask.labels, settings, reasons);
    if (typeof chosen === 'string') return deny('LABEL_NOT_ALLOWED', chosen);
    if (chosen.length > MAX_LABELS) {
      return deny('VALIDATION_FAILED', tooManyLabels(settings.systemLabels.length, grant.labels.required.length), 'labels');
    }
    labels = chosen;
  }
  const group = chooseGroup(rule, ask.runnerGroupId, settings);
  if (typeof group === 'string') return deny('RUNNER_GROUP_NOT_ALLOWED', group);
  reasons.push(group.reason, describeLimits(grant));
  return {
    allowed: true,
    rule: rule.name,
    labels,
    runnerGroupId: group.id,
    limits: { maxRunners: grant.maxRunners, maxRunnersPerIdentity: grant.maxRunnersPerIdentity },
    matchedClaims,
    reasons,
  };
}

/** System labels first, then the rule's required ones, then the requested ones; or why a label is refused. */
function chooseLabels(rule: PolicyRule, requested: readonly string[], settings: DecisionSettings, reasons: string[]): string[] | string {
  const system = new Set(settings.systemLabels);
  const required = new Set(rule.grant.labels.required);
  if (system.size > 0) reasons.push(`system labels first: ${settings.systemLabels.join(', ')}`);
  if (required.size > 0) reasons.push(`required by the rule: ${rule.grant.labels.required.join(', ')}`);
  const reserved = reservedLabel(requested);
  if (reserved !== undefined) return reservedLabelMessage(reserved);
  for (const label of new Set(requested)) {
    if (system.has(label) || required.has(label)) continue;
    const allowedBy = rule.grant.labels.allowed.find((matcher) => labelMatches(matcher, label));
    if (!allowedBy) {
      return `Label "${label}" is not allowed by rule "${rule.name}" (it allows: ${describeAllowed(rule.grant.labels.allowed)}); leave it out or ask for an allowed one`;
    }
    reasons.push(`label "${label}": allowed by ${describeMatcher(allowedBy)}`);
  }
  return [...new Set([...settings.systemLabels, ...rule.grant.labels.required, ...requested])];
}

function labelMatches(matcher: LabelMatcher, label: string): boolean {
  return matcher.kind === 'exact' ? matcher.value === label : matcher.regex.test(label);
}

function describeMatcher(matcher: LabelMatcher): string {
  return matcher.kind === 'exact' ? `"${matcher.value}"` : `pattern "${matcher.source}"`;
}

function describeAllowed(allowed: readonly LabelMatcher[]): string {
  return allowed.length === 0 ? 'no labels besides the system and required ones' : allowed.map(describeMatcher).join(', ');
}

/** The requested group if the rule allows it, else the default: the rule's first group, or the configured one. */
function chooseGroup(rule: PolicyRule, requested: number | undefined, settings: DecisionSettings): { id: number; reason: string } | string {
  const groups = rule.grant.runnerGroups;
  const allowed = groups ?? [settings.defaultRunnerGroupId];
  const fallback = allowed[0];
  if (requested !== undefined && !allowed.includes(requested)) {
    const which = groups ? `runner groups ${groups.join(', ')}` : `the configured runner group ${fallback} only (it names no runner_groups)`;
    return `runner_group_id ${requested} is not allowed by rule "${rule.name}", which allows ${which}; leave runner_group_id out for group ${fallback}`;
  }
  if (requested !== undefined) return { id: requested, reason: `runner group ${requested}: requested, and allowed by the rule` };
  return { id: fallback, reason: groups ? `runner group ${fallback}: the rule's default` : `runner group ${fallback}: the configured default (the rule names no runner_groups)` };
}

function describeLimits(grant: Grant): string {
  const limits = [
    grant.maxRunners !== null ? `max_runners ${grant.maxRunners} (every identity of the rule together)` : null,
    grant.maxRunnersPerIdentity !== null ? `max_runners_per_identity ${grant.maxRunnersPerIdentity}` : null,
  ].filter((limit) => limit !== null);
  return limits.length > 0 ? `limits: ${limits.join(', ')}` : 'no runner limits';
}
