import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import type { AuthConfig } from '../config/app-config.js';
import {
  buildIssuers,
  type IssuerDefaults,
  type IssuerShorthand,
  isPublicIssuer,
  PUBLIC_GITHUB_ACTIONS_ISSUER,
  SHORTHAND_AUDIENCE_MISSING,
  shorthandIssuer,
} from './policy-issuers.js';
import { problemAt, schemaProblems } from './policy-problems.js';
import { buildRules } from './policy-rules.js';
import { POLICY_SCHEMA, type RawPolicy } from './policy.schema.js';
import type { Policy } from './policy.types.js';

/** A policy file is a page of YAML; anything this big is not one. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;
/** YAML aliases can expand a small file into a huge value ("billion laughs"). */
const MAX_YAML_ALIASES = 100;

/** What the policy is built from: POLICY_FILE (if any) and the OIDC_* settings. */
export interface PolicyLoadOptions extends IssuerDefaults {
  /** POLICY_FILE; undefined: no policy file (the seed's behaviour). */
  file?: string;
  /** ENABLE_OIDC_AUTH. Off, no token is verified: the policy's issuers list stays empty. */
  authEnabled: boolean;
  /** The OIDC_* shorthand, when OIDC_ISSUER is set. */
  shorthand?: IssuerShorthand;
}

/** The loaded policy, with what should be said about it at start (and the text it came from). */
export interface LoadedPolicy {
  policy: Policy;
  warnings: string[];
  /** The file's text; null without a file. A reload that reads the same text changes nothing. */
  text: string | null;
}

/** The policy cannot be used: every problem, each naming the rule or issuer, the field, and what is wrong. */
export class PolicyError extends Error {
  constructor(
    readonly source: string | null,
    readonly problems: string[],
  ) {
    const heading = source === null ? 'The access policy cannot be used' : `Policy file ${source} is invalid`;
    super(`${heading}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}

export const NO_POLICY_FILE_WARNING =
  'POLICY_FILE is not set: any caller with a valid token may register runners with any labels in the default runner group. ' +
  'Set POLICY_FILE to decide who gets what (docs/policy.md).';
export const AUTH_OFF_WITH_POLICY_WARNING =
  'ENABLE_OIDC_AUTH=false with a POLICY_FILE: the file is loaded and checked, but its rules apply to nobody; ' +
  'the local identity gets the grant of "no policy file" (any labels, the default runner group, no limits, never admin).';

/** The load options of the service: POLICY_FILE and the OIDC_* shorthand from the configuration. */
export function policyLoadOptions(auth: AuthConfig, file = auth.policyFile): PolicyLoadOptions {
  return {
    file,
    authEnabled: auth.enabled,
    // Kept when authentication is off, so rules that name `default` still resolve.
    shorthand: auth.issuer ? { issuer: auth.issuer, audience: auth.audience, jwksUrl: auth.jwksUrl } : undefined,
    displayClaim: auth.userClaim,
    clockToleranceSeconds: auth.clockToleranceSeconds,
  };
}

/** Reads and builds the policy; throws PolicyError naming every problem. */
export function loadPolicy(options: PolicyLoadOptions, now = new Date()): LoadedPolicy {
  if (options.file === undefined) return withoutPolicyFile(options, now);
  return parsePolicy(readPolicyFile(options.file), options.file, options, now);
}

/** The file's text; throws PolicyError when it cannot be read or is too big to be a policy. */
export function readPolicyFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : `it cannot be read (${code ?? (error as Error).message})`;
    throw new PolicyError(file, [`POLICY_FILE: ${reason}`]);
  }
  if (bytes.length > MAX_POLICY_FILE_BYTES) {
    throw new PolicyError(file, [`POLICY_FILE: is ${bytes.length} bytes; a policy file may be at most ${MAX_POLICY_FILE_BYTES}`]);
  }
  return bytes.toString('utf8');
}

/** Without POLICY_FILE: the shorthand's issuer, no rules (any caller, any labels, the default group). */
function withoutPolicyFile(options: PolicyLoadOptions, now: Date): LoadedPolicy {
  const shorthand = options.authEnabled ? options.shorthand : undefined;
  if (shorthand && isPublicIssuer(shorthand.issuer)) {
    throw new PolicyError(null, [
      `OIDC_ISSUER is GitHub Actions' public issuer (${PUBLIC_GITHUB_ACTIONS_ISSUER}): any workflow on github.com can get a token ` +
        `for audience ${JSON.stringify(shorthand.audience)}, so without a policy anyone could register runners in this organization. ` +
        'Set POLICY_FILE to a policy whose rules bind repository_owner or repository_owner_id (docs/policy.md).',
    ]);
  }
  if (shorthand && !shorthand.audience) throw new PolicyError(null, [SHORTHAND_AUDIENCE_MISSING]);
  if (options.authEnabled && !shorthand) {
    throw new PolicyError(null, ['OIDC authentication is on but no issuer is trusted: set OIDC_ISSUER, or POLICY_FILE with issuers']);
  }
  return {
    policy: { source: null, issuers: shorthand ? [shorthandIssuer(shorthand, options)] : [], rules: null, loadedAt: now },
    warnings: [NO_POLICY_FILE_WARNING],
    text: null,
  };
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
// Messages for editors (the VS Code JSON language service shows them); the loader reads them too.
ajv.addVocabulary(['errorMessage', 'patternErrorMessage']);
const validatePolicy = ajv.compile<RawPolicy>(POLICY_SCHEMA);

/** Builds the policy from the file's text (YAML); pure. Throws PolicyError naming every problem. */
export function parsePolicy(text: string, source: string, options: PolicyLoadOptions, now = new Date()): LoadedPolicy {
  const data = parseYaml(text, source);
  if (!validatePolicy(data)) throw new PolicyError(source, schemaProblems(validatePolicy.errors ?? [], data));
  const problems: string[] = [];
  const merged = buildIssuers(data, data.issuers ?? [], options, options.shorthand, problems);
  const rules = buildRules(data.rules, { data, issuers: merged.issuers, shorthandOverriddenBy: merged.shorthandOverriddenBy, problems });
  if (options.authEnabled && merged.issuers.length === 0) {
    problems.push(problemAt(data, ['issuers'], 'no issuer is trusted: list issuers here, or set OIDC_ISSUER'));
  }
  if (problems.length > 0) throw new PolicyError(source, problems);
  const warnings = [...merged.warnings];
  if (!options.authEnabled) warnings.push(AUTH_OFF_WITH_POLICY_WARNING);
  return {
    policy: { source, issuers: options.authEnabled ? merged.issuers : [], rules, loadedAt: now },
    warnings,
    text,
  };
}

function parseYaml(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(source, document.errors.map((error) => `not valid YAML: ${error.message.split('\n')[0]}`));
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    throw new PolicyError(source, [`not usable YAML: ${(error as Error).message}`]);
  }
  if (data === null || data === undefined) throw new PolicyError(source, ['the file is empty: it needs at least rules:']);
  return data;
}
