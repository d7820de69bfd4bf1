/**
 * The access policy as the service uses it, after loading and validation: which issuers are trusted,
 * and which rules grant what. Built by the loader (policy.loader.ts) from POLICY_FILE and the OIDC_*
 * shorthand; read by authentication (the issuers) and by authorization (the rules).
 */

/** One OIDC issuer whose tokens are accepted. */
export interface TrustedIssuer {
  /** The policy's name for it (`github-actions`); rules name the issuer by this. */
  name: string;
  /** Exactly the `iss` its tokens carry. */
  issuer: string;
  /** Accepted `aud` values (a token must carry at least one). */
  audiences: string[];
  /** The JWKS URL; undefined means discovered from `ISSUER/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Accepted `alg`s: asymmetric only. */
  algorithms: string[];
  /** The claim shown as the caller's name; falls back to `sub`. */
  displayClaim: string;
  /** The longest `exp − iat` accepted (or `exp − now` without `iat`), in seconds. */
  maxTokenLifetimeSeconds: number;
  /** After a fetch, an unknown `kid` does not fetch the key set again for this long, in seconds. */
  jwksCooldownSeconds: number;
  /** Seconds of clock skew accepted on `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
  /**
   * Anyone can mint a token of this issuer for any audience (GitHub Actions' public issuer): every
   * rule naming it must bind `repository_owner` or `repository_owner_id`.
   */
  publicIssuer: boolean;
}

/**
 * How one claim is compared. Exact values compare as JSON (a string with a string, `true` with the
 * boolean true, 5 with the number 5); patterns match the whole value (compiled as `^(?:p)$`) of a
 * string, or the JSON text of a number or boolean; `contains` needs an array with a matching item.
 */
export type ValueMatcher =
  | { kind: 'exact'; value: string | number | boolean }
  | { kind: 'pattern'; source: string; regex: RegExp }
  | { kind: 'any'; of: ValueMatcher[] }
  | { kind: 'contains'; item: ValueMatcher };

export interface ClaimCondition {
  /** A dotted path into the claims (`kubernetes.io.namespace`). */
  path: string;
  matcher: ValueMatcher;
}

/**
 * The shape of bind_to_run's labels (`run-<run_id>-<run_attempt>`). Nobody may ask for one, and no
 * rule may require one: a runner carrying another run's label would take that run's job (and its
 * secrets).
 */
export const RUN_LABEL_PATTERN = /^run-\d+-\d+$/;

/** A label a grant allows: exact (lower-cased at load), or a whole-value pattern (case-insensitive). */
export type LabelMatcher = { kind: 'exact'; value: string } | { kind: 'pattern'; source: string; regex: RegExp };

export interface Grant {
  labels: {
    /** Always added (after the system labels). */
    required: string[];
    /** Each requested label must match one of these; empty allows none. */
    allowed: LabelMatcher[];
  };
  /** Runner group ids allowed; the first is the default. Null: the configured default group only. */
  runnerGroups: number[] | null;
  /** All identities this rule matched, together; null: no limit. */
  maxRunners: number | null;
  /** Each identity; null: no limit. */
  maxRunnersPerIdentity: number | null;
  registrationTokens: boolean;
  admin: boolean;
  /** GitHub Actions only: one label `run-<run_id>-<run_attempt>`, nothing else. */
  bindToRun: boolean;
}

export interface PolicyRule {
  name: string;
  /** The TrustedIssuer's name (the file may name it by its `iss`; the loader resolves that). */
  issuer: string;
  claims: ClaimCondition[];
  grant: Grant;
}

export interface Policy {
  /** The file it came from; null without POLICY_FILE. */
  source: string | null;
  issuers: TrustedIssuer[];
  /** Null without a policy file: the seed's behaviour (any caller, any labels, the default group). */
  rules: PolicyRule[] | null;
  loadedAt: Date;
}

/** A verified caller, as the policy sees it. */
export interface PolicyCaller {
  /** The token's `iss`. */
  issuer: string;
  /** The policy's name for the issuer, when authentication has found it; else looked up by `issuer`. */
  issuerName?: string | null;
  /** The verified claims (the token's payload). */
  claims: Readonly<Record<string, unknown>>;
}

/** Which rule matches a caller: the rule (null without a policy file), or the claim names considered when none did. */
export type RuleMatch =
  | {
      matched: true;
      rule: PolicyRule | null;
      /** The claims the rule's conditions looked at, with their values (for the audit trail). */
      matchedClaims: Record<string, unknown>;
    }
  | {
      matched: false;
      /** The names of the claims the issuer's rules look at; never their values. */
      considered: string[];
      /** Why no rule matched, one line per rule, naming claims but never their values. */
      reasons: string[];
    };

export type ProvisionKind = 'jit' | 'registration_token';

/** What a provisioning request asks for, as far as the policy is concerned (labels already normalised). */
export interface ProvisionAsk {
  kind: ProvisionKind;
  labels: string[];
  runnerGroupId?: number;
}

/** Settings the decision needs from configuration. */
export interface DecisionSettings {
  /**
   * RUNNER_SYSTEM_LABELS: an exact set, always first (not for bind_to_run). A requested label in this
   * set needs no `allowed` entry; one that merely starts like one (`self-hosted-gpu`) does.
   */
  systemLabels: string[];
  /** GITHUB_RUNNER_GROUP_ID. */
  defaultRunnerGroupId: number;
}

/** The refusal codes a policy decision can give (403, except VALIDATION_FAILED: 400). */
export type PolicyRefusalCode =
  | 'POLICY_NO_MATCH'
  | 'LABEL_NOT_ALLOWED'
  | 'RUNNER_GROUP_NOT_ALLOWED'
  | 'REGISTRATION_TOKENS_NOT_ALLOWED'
  | 'VALIDATION_FAILED';

/** Limits a grant puts on the count of live runners, checked when the runner is reserved. */
export interface QuotaLimits {
  maxRunners: number | null;
  maxRunnersPerIdentity: number | null;
}

export type ProvisionDecision =
  | {
      allowed: true;
      /** The rule that decided; null without a policy file. */
      rule: string | null;
      labels: string[];
      runnerGroupId: number;
      limits: QuotaLimits;
      /** The claims the rule's conditions looked at, with their values (for the audit trail). */
      matchedClaims: Record<string, unknown>;
      /** Why, one line each, for people (check-policy, logs). */
      reasons: string[];
    }
  | {
      allowed: false;
      rule: string | null;
      code: PolicyRefusalCode;
      /** For the caller: names what refused and what to change; never a claim's secret value. */
      message: string;
      /** Field for VALIDATION_FAILED (labels, runner_group_id). */
      field?: string;
      matchedClaims: Record<string, unknown>;
      reasons: string[];
    };
