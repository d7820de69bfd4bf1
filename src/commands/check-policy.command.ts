import { readFileSync } from 'node:fs';
import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { checkRequest, type PolicyCheck } from '../policy/policy-check.js';
import { type LoadedPolicy, parsePolicy, PolicyError, policyLoadOptions } from '../policy/policy.loader.js';
import type { ProvisionKind } from '../policy/policy.types.js';
import { NegativeAnswer, UsageError } from './cli-errors.js';
import { CliOutput } from './cli-output.service.js';
import { plural } from './format.js';
import { parseChoice, parseNonBlank } from './option-parsers.js';

export const CHECK_POLICY_COMMAND = 'check-policy';

const KINDS: readonly ProvisionKind[] = ['jit', 'registration_token'];
const CHECKED_LATER = 'Quotas (max_runners, max_runners_per_identity) and suspensions are checked when the request is made, against the database; not here.';

interface CheckPolicyOptions {
  policy: string;
  claims?: string;
  request?: string;
  kind?: ProvisionKind;
  json?: boolean;
}

@Command({
  name: CHECK_POLICY_COMMAND,
  description:
    'Check a policy file before it goes live; with --claims and --request, show what it decides for that token and request (no GitHub, no database)',
})
export class CheckPolicyCommand extends CommandRunner {
  constructor(
    private readonly output: CliOutput,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async run(_args: string[], options: CheckPolicyOptions): Promise<void> {
    if ((options.claims === undefined) !== (options.request === undefined)) {
      throw new UsageError('Give both --claims (a token\'s decoded payload) and --request (the request body), or neither to only validate the policy.');
    }
    if (options.kind !== undefined && options.claims === undefined) {
      throw new UsageError('--kind goes with --claims and --request.');
    }
    const text = readInput(options.policy, 'the policy file');
    const claims = options.claims === undefined ? undefined : readJsonObject(options.claims, "the token's claims");
    const request = options.request === undefined ? undefined : readJsonObject(options.request, 'the request body');
    if (claims !== undefined && typeof claims.iss !== 'string') {
      throw new UsageError(`${options.claims} has no "iss": it must be a token's decoded payload, whose iss picks the issuer.`);
    }
    const loaded = this.load(text, options);
    if (claims === undefined || request === undefined) {
      this.printValid(loaded, options);
      return;
    }
    const kind = options.kind ?? 'jit';
    const settings = { systemLabels: this.config.github.systemLabels, defaultRunnerGroupId: this.config.github.runnerGroupId };
    const check = checkRequest(loaded.policy, { claims, request, kind }, settings);
    if (options.json) this.output.json(toJson(options.policy, kind, check));
    else this.printCheck(kind, check);
    if (!check.allowed) throw new NegativeAnswer(`denied: ${check.code}`);
  }

  /** The policy as the service would load it: merged with the OIDC_* shorthand when set, tokens verified. */
  private load(text: string, options: CheckPolicyOptions): LoadedPolicy {
    try {
      return parsePolicy(text, options.policy, { ...policyLoadOptions(this.config.auth, options.policy), authEnabled: true });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      if (options.json) this.output.json({ policy: options.policy, valid: false, problems: error.problems });
      else this.output.line(error.message);
      throw new NegativeAnswer('invalid policy');
    }
  }

  private printValid({ policy, warnings }: LoadedPolicy, options: CheckPolicyOptions): void {
    const issuers = policy.issuers.map((issuer) => issuer.name);
    const rules = (policy.rules ?? []).map((rule) => rule.name);
    if (options.json) {
      this.output.json({ policy: options.policy, valid: true, issuers, rules, warnings });
      return;
    }
    this.output.line(
      `Policy ${options.policy} is valid: ${plural(issuers.length, 'issuer')} (${issuers.join(', ')}), ${plural(rules.length, 'rule')}${rules.length > 0 ? ` (${rules.join(', ')})` : ''}.`,
    );
    for (const warning of warnings) this.output.line(`Warning: ${warning}`);
  }

  private printCheck(kind: ProvisionKind, check: PolicyCheck): void {
    const what = kind === 'jit' ? 'a JIT runner' : 'a registration token';
    const issuer = check.issuer ? ` of issuer "${check.issuer}"` : '';
    if (check.allowed) {
      this.output.line(`ALLOW: ${what} for this token${issuer}`);
      this.output.line(`Rule:          ${check.rule ?? '(no policy rules)'}`);
      this.output.line(`Labels:        ${check.labels.join(', ')}`);
      this.output.line(`Runner group:  ${check.runnerGroupId}`);
      this.output.line(`Limits:        ${describeLimits(check)}`);
    } else {
      this.output.line(`DENY: ${check.code} (HTTP ${check.status}) for ${what}${issuer}`);
      this.output.line(`Rule:          ${check.rule ?? '-'}`);
      this.output.line(`Message:       ${check.message}`);
    }
    this.output.line('Reasons:');
    // A refusal's last reason is its message, shown above already.
    const reasons = check.allowed ? check.reasons : check.reasons.filter((reason) => reason !== check.message);
    for (const reason of reasons) this.output.line(`  - ${reason}`);
    if (check.allowed) this.output.line(CHECKED_LATER);
  }

  @Option({ flags: '--policy <file>', description: 'The policy file (YAML) to check', required: true })
  parsePolicy(value: string): string {
    return parseNonBlank(value, 'the policy file, e.g. --policy policy.yaml');
  }

  @Option({ flags: '--claims <file>', description: "A token's decoded payload (JSON); its iss picks the issuer" })
  parseClaims(value: string): string {
    return parseNonBlank(value, 'a JSON file, e.g. --claims claims.json');
  }

  @Option({ flags: '--request <file>', description: 'The request body (JSON) of POST /runners/jit, or of POST /runners/provision with --kind registration_token' })
  parseRequest(value: string): string {
    return parseNonBlank(value, 'a JSON file, e.g. --request request.json');
  }

  @Option({ flags: '--kind <kind>', description: `What the request asks for: ${KINDS.join(' or ')} (default jit)` })
  parseKind(value: string): ProvisionKind {
    return parseChoice(value, KINDS);
  }

  @Option({ flags: '--json', description: 'Print the result as JSON' })
  parseJson(): boolean {
    return true;
  }
}

function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : `it cannot be read (${code ?? 'unknown error'})`;
    throw new UsageError(`Cannot read ${what} ${file}: ${reason}.`);
  }
}

function readJsonObject(file: string, what: string): Record<string, unknown> {
  const text = readInput(file, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON (${(error as Error).message}); it must hold ${what} as a JSON object.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${file} must hold ${what} as a JSON object.`);
  }
  return value as Record<string, unknown>;
}

function describeLimits(check: Extract<PolicyCheck, { allowed: true }>): string {
  const { maxRunners, maxRunnersPerIdentity } = check.limits;
  const limits = [
    maxRunners !== null ? `max_runners ${maxRunners}` : null,
    maxRunnersPerIdentity !== null ? `max_runners_per_identity ${maxRunnersPerIdentity}` : null,
  ].filter((limit) => limit !== null);
  return limits.length > 0 ? limits.join(', ') : 'none';
}

/** The machine-readable result: snake_case, as the API's bodies. */
function toJson(policy: string, kind: ProvisionKind, check: PolicyCheck): Record<string, unknown> {
  const common = { policy, valid: true, kind, issuer: check.issuer, rule: check.rule, status: check.status };
  if (!check.allowed) {
    return {
      ...common,
      decision: 'deny',
      code: check.code,
      message: check.message,
      ...(check.field ? { field: check.field } : {}),
      matched_claims: check.matchedClaims,
      reasons: check.reasons,
    };
  }
  return {
    ...common,
    decision: 'allow',
    labels: check.labels,
    runner_group_id: check.runnerGroupId,
    limits: { max_runners: check.limits.maxRunners, max_runners_per_identity: check.limits.maxRunnersPerIdentity },
    matched_claims: check.matchedClaims,
    reasons: check.reasons,
    checked_later: ['quotas', 'suspensions'],
  };
}
