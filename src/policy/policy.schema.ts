/**
 * The JSON Schema of POLICY_FILE: the one source for the loader's validation and for editors
 * (docs/policy.schema.json is this object, written out; a test keeps the two equal). Every object
 * refuses unknown fields, so a typo is an error instead of a silently ignored line.
 *
 * `errorMessage` and `patternErrorMessage` are what editors based on the VS Code JSON language
 * service show for a failed check; the loader shows the same texts.
 */

const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const NAME_RULE = 'must be 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit';
/** `3600s`, `30m`, `1h`. */
export const DURATION_PATTERN = '^[0-9]{1,7}(s|m|h)$';
/** A claim path: names separated by dots, none empty. */
const CLAIM_PATH_PATTERN = '^[^.\\s]+(\\.[^.\\s]+)*$';

const duration = (what: string, minimum: number) => ({
  description: `${what}: a whole number of seconds, or a number with a unit: 3600s, 30m, 1h.`,
  errorMessage: 'must be a duration such as 3600s, 30m or 1h (or a whole number of seconds)',
  anyOf: [
    { type: 'integer', minimum },
    { type: 'string', pattern: DURATION_PATTERN },
  ],
});

const nonEmptyString = { type: 'string', minLength: 1 };

export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Runner Token Service access policy (POLICY_FILE)',
  description:
    'Trusted OIDC issuers, and rules that map an issuer and claim conditions to a grant. The first rule that matches a token decides. See docs/policy.md.',
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    issuers: {
      description: 'OIDC issuers whose tokens are accepted; merged with the OIDC_ISSUER shorthand when that is set.',
      type: 'array',
      items: { $ref: '#/definitions/issuer' },
    },
    rules: {
      description: 'The first rule whose issuer and claim conditions all match a token decides; order is the author\'s.',
      type: 'array',
      items: { $ref: '#/definitions/rule' },
    },
  },
  definitions: {
    name: {
      type: 'string',
      pattern: NAME_PATTERN,
      patternErrorMessage: NAME_RULE,
    },
    issuer: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'issuer', 'audience'],
      properties: {
        name: { $ref: '#/definitions/name', description: 'The name rules use for this issuer.' },
        issuer: {
          ...nonEmptyString,
          description: 'Exactly the `iss` its tokens carry (an https URL).',
        },
        audience: {
          description: 'The accepted `aud` value, or a list of them; a token must carry one of them.',
          errorMessage: 'must be a non-empty string or a non-empty list of them',
          anyOf: [nonEmptyString, { type: 'array', minItems: 1, uniqueItems: true, items: nonEmptyString }],
        },
        jwks_url: {
          ...nonEmptyString,
          description: "The issuer's JWKS (https). Without it, discovered from ISSUER/.well-known/openid-configuration.",
        },
        algorithms: {
          description: 'Accepted signature algorithms; asymmetric only (default: all of these).',
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'string', enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] },
        },
        display_claim: {
          ...nonEmptyString,
          description: 'The claim shown as the caller\'s name, falling back to `sub` (default: OIDC_USER_CLAIM, else email).',
        },
        max_token_lifetime: duration('The longest exp - iat accepted (default 1h, at most 8760h)', 1),
        jwks_cooldown: duration('After a key-set fetch, an unknown kid fetches again only after this long (default 30s, 1s to 1h)', 1),
        clock_tolerance: duration('Clock skew accepted on exp, nbf and iat (default OIDC_CLOCK_TOLERANCE_SECONDS, at most 60s)', 0),
      },
    },
    rule: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'issuer', 'grant'],
      properties: {
        name: { $ref: '#/definitions/name', description: 'Shown in refusals and recorded with every decision.' },
        issuer: {
          ...nonEmptyString,
          description: "An issuer's name from `issuers` (or `default`, the OIDC_ISSUER shorthand), or its `iss` URL.",
        },
        claims: {
          description:
            'Conditions on the token\'s claims, all of which must hold. Keys are claim names or dotted paths into nested claims (kubernetes.io.namespace).',
          type: 'object',
          propertyNames: { pattern: CLAIM_PATH_PATTERN },
          additionalProperties: { $ref: '#/definitions/claimCondition' },
        },
        grant: { $ref: '#/definitions/grant' },
      },
    },
    scalar: { type: ['string', 'number', 'boolean'] },
    pattern: {
      type: 'object',
      additionalProperties: false,
      required: ['pattern'],
      properties: {
        pattern: {
          ...nonEmptyString,
          description: 'A regular expression that must match the WHOLE value (compiled as ^(?:pattern)$).',
        },
      },
    },
    valueOrPattern: {
      errorMessage: 'must be a value (string, number or boolean) or {pattern: "regex"}',
      anyOf: [{ $ref: '#/definitions/scalar' }, { $ref: '#/definitions/pattern' }],
    },
    claimCondition: {
      description:
        'An exact value (compared as JSON: a string with a string), a list of values (any of them), {pattern: "regex"} (the whole value), or {contains: value} (an array claim such as groups).',
      errorMessage:
        'must be a value (string, number or boolean), a list of values, {pattern: "regex"} or {contains: value}',
      anyOf: [
        { $ref: '#/definitions/scalar' },
        { type: 'array', minItems: 1, items: { $ref: '#/definitions/valueOrPattern' } },
        { $ref: '#/definitions/pattern' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['contains'],
          properties: { contains: { $ref: '#/definitions/valueOrPattern' } },
        },
      ],
    },
    label: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      pattern: '^[A-Za-z0-9._:/-]+$',
      patternErrorMessage: 'must be a label: letters, digits and . _ - : / (no comma, no space)',
    },
    grant: {
      description: 'What a caller matched by this rule may have.',
      type: 'object',
      additionalProperties: false,
      properties: {
        labels: {
          type: 'object',
          additionalProperties: false,
          properties: {
            required: {
              description: 'Always added, after the system labels.',
              type: 'array',
              maxItems: 99,
              items: { $ref: '#/definitions/label' },
            },
            allowed: {
              description:
                'Each requested label (other than a system label) must match one of these: a label, or {pattern: "regex"} matching the whole label, case-insensitively.',
              type: 'array',
              items: {
                errorMessage: 'must be a label or {pattern: "regex"}',
                anyOf: [{ $ref: '#/definitions/label' }, { $ref: '#/definitions/pattern' }],
              },
            },
          },
        },
        runner_groups: {
          description: 'Runner group ids a caller may ask for; the first is the default. Without it: the configured group only.',
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { type: 'integer', minimum: 1 },
        },
        max_runners: {
          description: 'Live runners of every identity this rule matched, together.',
          type: 'integer',
          minimum: 1,
        },
        max_runners_per_identity: {
          description: 'Live runners of each identity (issuer + sub).',
          type: 'integer',
          minimum: 1,
        },
        registration_tokens: {
          description: 'May ask POST /runners/provision for registration tokens (default false).',
          type: 'boolean',
        },
        admin: {
          description: 'May use the admin API (default false).',
          type: 'boolean',
        },
        bind_to_run: {
          description:
            'GitHub Actions tokens only: the runner gets exactly one label, run-<run_id>-<run_attempt>, and the request may not ask for labels.',
          type: 'boolean',
        },
      },
    },
  },
} as const;

/** A claim condition as written: the schema guarantees one of these shapes. */
export type RawValue = string | number | boolean;
export type RawPattern = { pattern: string };
export type RawClaimCondition = RawValue | Array<RawValue | RawPattern> | RawPattern | { contains: RawValue | RawPattern };

/** An issuer as written in the file, once it passed the schema. */
export interface RawIssuer {
  name: string;
  issuer: string;
  audience: string | string[];
  jwks_url?: string;
  algorithms?: string[];
  display_claim?: string;
  max_token_lifetime?: number | string;
  jwks_cooldown?: number | string;
  clock_tolerance?: number | string;
}

/** A rule as written in the file, once it passed the schema. */
export interface RawRule {
  name: string;
  issuer: string;
  claims?: Record<string, RawClaimCondition>;
  grant: {
    labels?: { required?: string[]; allowed?: Array<string | RawPattern> };
    runner_groups?: number[];
    max_runners?: number;
    max_runners_per_identity?: number;
    registration_tokens?: boolean;
    admin?: boolean;
    bind_to_run?: boolean;
  };
}

/** The whole file, once it passed the schema. */
export interface RawPolicy {
  issuers?: RawIssuer[];
  rules: RawRule[];
}
