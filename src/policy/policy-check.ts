import { ERROR_CODES } from '../common/domain-error.js';
import { HTTP_STATUS_BY_CODE } from '../common/http-errors.js';
import { describeLabelsProblem, normaliseLabels } from '../runners/runner-input.rules.js';
import { decideProvision } from './policy.evaluator.js';
import type { DecisionSettings, Policy, ProvisionAsk, ProvisionDecision, ProvisionKind } from './policy.types.js';

/**
 * What the service would answer a token (its decoded claims) and a request body, as far as the
 * policy decides: the check-policy command's core. Pure. Not checked here: the token's signature,
 * expiry and lifetime (a saved token has long expired), quotas and suspensions (the database).
 */

export interface PolicyCheckInput {
  /** A token's decoded payload; its `iss` picks the issuer. */
  claims: Record<string, unknown>;
  /** The body of POST /runners/jit, or of POST /runners/provision for a registration token. */
  request: Record<string, unknown>;
  kind: ProvisionKind;
}

type Refusal = Extract<ProvisionDecision, { allowed: false }>;

/**
 * The decision, with the issuer's name and the HTTP status the service would answer with. A token
 * the service would not authenticate is refused with UNAUTHENTICATED (401) before any rule is read.
 */
export type PolicyCheck = (
  | Extract<ProvisionDecision, { allowed: true }>
  | (Omit<Refusal, 'code'> & { code: Refusal['code'] | typeof ERROR_CODES.UNAUTHENTICATED })
) & { issuer: string | null; status: number };

type BadField = { field: string; message: string };

export function checkRequest(policy: Policy, input: PolicyCheckInput, settings: DecisionSettings): PolicyCheck {
  const iss = String(input.claims.iss);
  const issuer = policy.issuers.find((candidate) => candidate.issuer === iss);
  if (!issuer) {
    const trusted = policy.issuers.map((candidate) => `${candidate.name} (${candidate.issuer})`).join(', ') || 'none';
    return unauthenticated(`The token's iss ${JSON.stringify(iss)} is not a trusted issuer (trusted: ${trusted}); the service answers 401 before any rule is read`);
  }
  const audiences = ([] as unknown[]).concat(input.claims.aud ?? []);
  if (input.claims.aud !== undefined && !audiences.some((aud) => typeof aud === 'string' && issuer.audiences.includes(aud))) {
    return {
      ...unauthenticated(`The token's aud is not one issuer "${issuer.name}" accepts (${issuer.audiences.join(', ')}); the service answers 401`),
      issuer: issuer.name,
    };
  }
  const ask = toAsk(input);
  if ('field' in ask) return { ...refusal(ERROR_CODES.VALIDATION_FAILED, ask.message, ask.field), issuer: issuer.name };
  const decision = decideProvision(policy, { issuer: iss, issuerName: issuer.name, claims: input.claims }, ask, settings);
  return { ...decision, issuer: issuer.name, status: decision.allowed ? 201 : HTTP_STATUS_BY_CODE[decision.code] };
}

function refusal(code: Refusal['code'] | typeof ERROR_CODES.UNAUTHENTICATED, message: string, field?: string): PolicyCheck {
  return {
    allowed: false,
    rule: null,
    code,
    message,
    ...(field ? { field } : {}),
    matchedClaims: {},
    reasons: [message],
    issuer: null,
    status: HTTP_STATUS_BY_CODE[code],
  };
}

function unauthenticated(message: string): PolicyCheck {
  return refusal(ERROR_CODES.UNAUTHENTICATED, message);
}

/**
 * The request's labels and group as the API reads them: labels trimmed and lower-cased and checked
 * with the API's own rules; none sent (or an empty list) is no labels asked for, which a bind_to_run
 * rule needs. Returns the API's message for a bad field.
 */
function toAsk(input: PolicyCheckInput): ProvisionAsk | BadField {
  const { labels, runner_group_id: group } = input.request;
  let asked: string[] = [];
  if (labels !== undefined && !(Array.isArray(labels) && labels.length === 0)) {
    const normalised = normaliseLabels(labels);
    const problem = describeLabelsProblem(normalised);
    if (problem) return { field: 'labels', message: problem };
    asked = normalised as string[];
  }
  if (group !== undefined && !(typeof group === 'number' && Number.isSafeInteger(group) && group >= 1)) {
    return { field: 'runner_group_id', message: 'runner_group_id must be a whole number of at least 1' };
  }
  return { kind: input.kind, labels: asked, runnerGroupId: group as number | undefined };
}
