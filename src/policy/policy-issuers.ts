import { MAX_CLOCK_TOLERANCE_SECONDS } from '../config/config.loader.js';
import { problemAt } from './policy-problems.js';
import { DURATION_PATTERN, type RawIssuer } from './policy.schema.js';
import type { TrustedIssuer } from './policy.types.js';

/** GitHub Actions' issuer on github.com: any workflow anywhere can get one of its tokens for any audience. */
export const PUBLIC_GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
/** The claims that tie a GitHub Actions token to an organization (or user) account. */
export const OWNER_CLAIMS = ['repository_owner', 'repository_owner_id'] as const;
/** Asymmetric only: never HS* (a public key must not double as an HMAC secret), never none. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
/** The OIDC_ISSUER shorthand's issuer, as rules name it. */
export const SHORTHAND_ISSUER_NAME = 'default';

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 3600;
/** Kubernetes' extended service-account tokens live a year; longer is a mistake. */
export const MAX_TOKEN_LIFETIME_LIMIT_SECONDS = 365 * 24 * 3600;
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
export const MAX_JWKS_COOLDOWN_SECONDS = 3600;

/** The OIDC_ISSUER / OIDC_AUDIENCE / OIDC_JWKS_URL shorthand, when OIDC_ISSUER is set. */
export interface IssuerShorthand {
  issuer: string;
  audience: string;
  /** Empty or undefined: discovered. */
  jwksUrl?: string;
}

/** Settings an issuer takes from the environment unless the file says otherwise. */
export interface IssuerDefaults {
  /** OIDC_USER_CLAIM. */
  displayClaim: string;
  /** OIDC_CLOCK_TOLERANCE_SECONDS. */
  clockToleranceSeconds: number;
}

export const SHORTHAND_AUDIENCE_MISSING = 'OIDC_AUDIENCE: is required with OIDC_ISSUER: the "aud" its tokens are issued for';

/** True for GitHub Actions' public issuer (a trailing slash changes nothing). */
export function isPublicIssuer(iss: string): boolean {
  return iss.replace(/\/+$/, '') === PUBLIC_GITHUB_ACTIONS_ISSUER;
}

/** The shorthand's issuer, named `default`, with every other setting at its default. */
export function shorthandIssuer(shorthand: IssuerShorthand, defaults: IssuerDefaults): TrustedIssuer {
  return {
    name: SHORTHAND_ISSUER_NAME,
    issuer: shorthand.issuer,
    audiences: [shorthand.audience],
    jwksUrl: shorthand.jwksUrl || undefined,
    algorithms: [...ASYMMETRIC_ALGORITHMS],
    displayClaim: defaults.displayClaim,
    maxTokenLifetimeSeconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    jwksCooldownSeconds: DEFAULT_JWKS_COOLDOWN_SECONDS,
    clockToleranceSeconds: defaults.clockToleranceSeconds,
    publicIssuer: isPublicIssuer(shorthand.issuer),
  };
}

/** The file's issuers and the shorthand's, merged: what rules may name, and what problems that showed. */
export interface MergedIssuers {
  issuers: TrustedIssuer[];
  /** The file defines the shorthand's issuer too (same `iss`): the file's settings are used. */
  shorthandOverriddenBy?: string;
  warnings: string[];
}

/**
 * Builds the file's issuers with their defaults and merges the shorthand's: a file issuer with the
 * shorthand's `iss` replaces it (with a warning), so a file can tune that issuer; the name `default`
 * stays the shorthand's.
 */
export function buildIssuers(
  data: unknown,
  raw: readonly RawIssuer[],
  defaults: IssuerDefaults,
  shorthand: IssuerShorthand | undefined,
  problems: string[],
): MergedIssuers {
  const issuers = raw.map((entry, index) => buildIssuer(data, entry, index, defaults, problems));
  const firstIndex = new Map<string, number>();
  const firstIss = new Map<string, number>();
  raw.forEach((entry, index) => {
    const sameName = firstIndex.get(entry.name);
    if (sameName !== undefined) problems.push(problemAt(data, ['issuers', index, 'name'], `is also the name of issuers[${sameName}]`));
    else firstIndex.set(entry.name, index);
    // Tokens are routed to an issuer by their iss: two entries for one iss would be ambiguous.
    const sameIss = firstIss.get(entry.issuer);
    if (sameIss !== undefined) problems.push(problemAt(data, ['issuers', index, 'issuer'], `is also the issuer of issuers[${sameIss}]`));
    else firstIss.set(entry.issuer, index);
  });
  const warnings: string[] = [];
  if (!shorthand) return { issuers, warnings };
  if (!shorthand.audience) problems.push(SHORTHAND_AUDIENCE_MISSING);
  const overriding = issuers.find((issuer) => issuer.issuer === shorthand.issuer);
  if (overriding) {
    warnings.push(
      `OIDC_ISSUER ${shorthand.issuer} is also issuer "${overriding.name}" of the policy file: the file's settings for it are used, and OIDC_AUDIENCE and OIDC_JWKS_URL are ignored`,
    );
    return { issuers, shorthandOverriddenBy: overriding.name, warnings };
  }
  const clash = raw.findIndex((entry) => entry.name === SHORTHAND_ISSUER_NAME);
  if (clash >= 0) {
    problems.push(
      problemAt(data, ['issuers', clash, 'name'], `"${SHORTHAND_ISSUER_NAME}" is the name of the OIDC_ISSUER shorthand's issuer (${shorthand.issuer}); choose another`),
    );
  }
  return { issuers: [shorthandIssuer(shorthand, defaults), ...issuers], warnings };
}

function buildIssuer(data: unknown, raw: RawIssuer, index: number, defaults: IssuerDefaults, problems: string[]): TrustedIssuer {
  const at = (field: string, message: string) => problems.push(problemAt(data, ['issuers', index, field], message));
  const urlProblem = (field: string, value: string, why: string) => {
    const problem = describeUrlProblem(value, why);
    if (problem) at(field, problem);
  };
  urlProblem('issuer', raw.issuer, 'it is where the keys are discovered from');
  if (raw.jwks_url !== undefined) urlProblem('jwks_url', raw.jwks_url, 'anyone on the path could serve keys for forged tokens');
  const seconds = (field: 'max_token_lifetime' | 'jwks_cooldown' | 'clock_tolerance', fallback: number, min: number, max: number) => {
    const value = raw[field];
    if (value === undefined) return fallback;
    const parsed = parseDuration(value);
    if (parsed < min || parsed > max) {
      at(field, `must be from ${formatSeconds(min)} to ${formatSeconds(max)} (got ${formatSeconds(parsed)})`);
      return fallback;
    }
    return parsed;
  };
  return {
    name: raw.name,
    issuer: raw.issuer,
    audiences: typeof raw.audience === 'string' ? [raw.audience] : [...raw.audience],
    jwksUrl: raw.jwks_url,
    algorithms: raw.algorithms ? [...raw.algorithms] : [...ASYMMETRIC_ALGORITHMS],
    displayClaim: raw.display_claim ?? defaults.displayClaim,
    maxTokenLifetimeSeconds: seconds('max_token_lifetime', DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 1, MAX_TOKEN_LIFETIME_LIMIT_SECONDS),
    jwksCooldownSeconds: seconds('jwks_cooldown', DEFAULT_JWKS_COOLDOWN_SECONDS, 1, MAX_JWKS_COOLDOWN_SECONDS),
    clockToleranceSeconds: seconds('clock_tolerance', defaults.clockToleranceSeconds, 0, MAX_CLOCK_TOLERANCE_SECONDS),
    publicIssuer: isPublicIssuer(raw.issuer),
  };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** A whole number of seconds, or `3600s` / `30m` / `1h` (the schema has checked the form). */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = new RegExp(DURATION_PATTERN).exec(value);
  if (!match) return Number.NaN;
  return Number(value.slice(0, -1)) * UNIT_SECONDS[match[1]];
}

function formatSeconds(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** An https URL; plain http only to this machine (tests, local issuers). Null when fine. */
function describeUrlProblem(value: string, why: string): string | null {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'https:') return null;
  if (url?.protocol === 'http:' && isLoopback(url.hostname)) return null;
  return `must be an https URL, because ${why} (http only for localhost, 127.0.0.0/8 and [::1]): got ${JSON.stringify(value)}`;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
