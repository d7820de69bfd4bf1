import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_AUTH_CONFIG } from '../../test/support/oidc.js';
import {
  CLUSTER_ISS,
  CORP_ISS,
  EXAMPLE_POLICY_YAML,
  GITHUB_ISS,
  LOAD_OPTIONS,
  policyFrom,
  policyProblems,
} from '../../test/support/policy-fixtures.js';
import { ASYMMETRIC_ALGORITHMS } from './policy-issuers.js';
import { AUTH_OFF_WITH_POLICY_WARNING, loadPolicy, NO_POLICY_FILE_WARNING, parsePolicy, policyLoadOptions } from './policy.loader.js';
import { POLICY_SCHEMA } from './policy.schema.js';

const ISS = 'https://issuer.example';
/** A valid first part of a policy with one issuer `idp`. */
const IDP = `issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]\n`;

describe('loading a policy file', () => {
  it('builds the issuers with their defaults and compiles the rules', () => {
    const policy = policyFrom(EXAMPLE_POLICY_YAML);
    expect(policy.source).toBe('policy.yaml');
    expect(policy.issuers).toEqual([
      {
        name: 'github-actions',
        issuer: GITHUB_ISS,
        audiences: ['runner-token-service'],
        jwksUrl: undefined,
        algorithms: ASYMMETRIC_ALGORITHMS,
        displayClaim: 'email',
        maxTokenLifetimeSeconds: 3600,
        jwksCooldownSeconds: 30,
        clockToleranceSeconds: 30,
        publicIssuer: true,
      },
      expect.objectContaining({ name: 'cluster-a', issuer: CLUSTER_ISS, jwksUrl: 'https://cluster-a.example/openid/v1/jwks', publicIssuer: false }),
      expect.objectContaining({ name: 'corp', issuer: CORP_ISS, displayClaim: 'email' }),
    ]);
    expect(policy.rules?.map((rule) => [rule.name, rule.issuer])).toEqual([
      ['per-run-builds', 'github-actions'],
      ['ci-main-repos', 'github-actions'],
      ['team-a-pods', 'cluster-a'],
      ['platform-admins', 'corp'],
    ]);
    expect(policy.rules?.[1].grant).toMatchObject({
      labels: { required: ['ci'], allowed: [{ kind: 'pattern', source: 'gpu|large' }, { kind: 'exact', value: 'arm64' }] },
      runnerGroups: [3, 5],
      maxRunners: 20,
      maxRunnersPerIdentity: 4,
      registrationTokens: false,
      admin: false,
      bindToRun: false,
    });
  });

  it('reads every issuer setting: audience lists, algorithms, display claim, durations', () => {
    const policy = policyFrom(`
issuers:
  - name: idp
    issuer: ${ISS}
    audience: [rts, rts-staging]
    algorithms: [ES256]
    display_claim: preferred_username
    max_token_lifetime: 30m
    jwks_cooldown: 90
    clock_tolerance: 0s
rules: [{ name: r, issuer: ${ISS}, claims: { sub: a }, grant: {} }]
`);
    expect(policy.issuers[0]).toMatchObject({
      audiences: ['rts', 'rts-staging'],
      algorithms: ['ES256'],
      displayClaim: 'preferred_username',
      maxTokenLifetimeSeconds: 1800,
      jwksCooldownSeconds: 90,
      clockToleranceSeconds: 0,
    });
    // A rule may name its issuer by the iss URL.
    expect(policy.rules?.[0].issuer).toBe('idp');
  });

  it('lower-cases labels the grant names (labels are case-insensitive)', () => {
    const policy = policyFrom(`${IDP}rules: [{ name: r, issuer: idp, claims: { sub: a }, grant: { labels: { required: [CI, ci], allowed: [GPU, { pattern: "Team-.*" }] } } }]`);
    expect(policy.rules?.[0].grant.labels.required).toEqual(['ci']);
    expect(policy.rules?.[0].grant.labels.allowed[0]).toEqual({ kind: 'exact', value: 'gpu' });
    expect((policy.rules?.[0].grant.labels.allowed[1] as { regex: RegExp }).regex.test('team-a')).toBe(true);
  });

  it('reads a file from disk and says when it is missing', () => {
    const folder = mkdtempSync(join(tmpdir(), 'rts-policy-'));
    const file = join(folder, 'policy.yaml');
    writeFileSync(file, EXAMPLE_POLICY_YAML);
    const loaded = loadPolicy({ ...LOAD_OPTIONS, file });
    expect(loaded.policy.source).toBe(file);
    expect(loaded.text).toBe(EXAMPLE_POLICY_YAML);
    expect(() => loadPolicy({ ...LOAD_OPTIONS, file: join(folder, 'nope.yaml') })).toThrow(
      `Policy file ${join(folder, 'nope.yaml')} is invalid:\n  - POLICY_FILE: it does not exist`,
    );
  });
});

describe('refusing a bad policy file, naming the rule, the field and the problem', () => {
  const rule = (fields: string) => `${IDP}rules:\n  - name: first\n    issuer: idp\n    claims: { sub: a }\n    grant: {}\n  - ${fields}\n`;
  it.each([
    ['not YAML', 'rules: [', /not valid YAML: .*line 1/],
    ['an empty file', '', /the file is empty: it needs at least rules:/],
    ['a list instead of a mapping', '- a', /top level: must be a mapping \(got a list\)/],
    ['no rules', IDP, /rules: is required/],
    ['a typo in a field name', `${IDP}rule: []`, /top level: unknown field "rule" \(known: issuers, rules\)/],
    [
      'a typo in a grant',
      rule('{ name: ci-main-repos, issuer: idp, claims: { sub: a }, grant: { label: {} } }'),
      /rules\[1\] "ci-main-repos": grant: unknown field "label" \(known: labels, runner_groups,/,
    ],
    [
      'a typo in a pattern',
      rule('{ name: ci-main-repos, issuer: idp, claims: { sub: { patern: x } }, grant: {} }'),
      /rules\[1\] "ci-main-repos": claims\.sub: must be a value .* or \{contains: value\} \(unknown field "patern"\)/,
    ],
    [
      'a label pattern that does not compile',
      rule('{ name: ci-main-repos, issuer: idp, claims: { sub: a }, grant: { labels: { allowed: [{ pattern: "(gpu" }] } } }'),
      /rules\[1\] "ci-main-repos": grant\.labels\.allowed\[0\]\.pattern: invalid regular expression: Unterminated group/,
    ],
    [
      'a claim pattern that would close the anchoring group',
      rule('{ name: sneaky, issuer: idp, claims: { sub: { pattern: "x)|(.*" } }, grant: {} }'),
      /rules\[1\] "sneaky": claims\.sub\.pattern: invalid regular expression: Unmatched '\)'/,
    ],
    [
      'a dotted claim path in a message',
      rule('{ name: pods, issuer: idp, claims: { kubernetes.io.namespace: { pattern: "[" } }, grant: {} }'),
      /rules\[1\] "pods": claims\["kubernetes\.io\.namespace"\]\.pattern: invalid regular expression/,
    ],
    ['a rule without a name', rule('{ issuer: idp, claims: { sub: a }, grant: {} }'), /rules\[1\]: name: is required/],
    ['a duplicate rule name', rule('{ name: first, issuer: idp, claims: { sub: b }, grant: {} }'), /rules\[1\] "first": name: is also the name of rules\[0\]/],
    [
      'an unknown issuer',
      rule('{ name: r, issuer: idq, claims: { sub: a }, grant: {} }'),
      /rules\[1\] "r": issuer: no issuer is named "idq" or has it as iss \(known: idp\)/,
    ],
    [
      'a rule without a claim condition',
      rule('{ name: everyone, issuer: idp, grant: {} }'),
      /rules\[1\] "everyone": claims: a rule needs at least one claim condition: without one it would match every token of issuer "idp"/,
    ],
    ['an empty claims mapping', rule('{ name: everyone, issuer: idp, claims: {}, grant: {} }'), /"everyone": claims: a rule needs at least one claim condition/],
    ['runner group 0', rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { runner_groups: [0] } }'), /rules\[1\] "r": grant\.runner_groups\[0\]: must be at least 1/],
    ['a runner group that is not a number', rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { runner_groups: [x] } }'), /grant\.runner_groups\[0\]: must be a whole number \(got a string\)/],
    ['a quota of 0', rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { max_runners_per_identity: 0 } }'), /"r": grant\.max_runners_per_identity: must be at least 1/],
    ['a fractional quota', rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { max_runners: 1.5 } }'), /"r": grant\.max_runners: must be a whole number \(got a number\)/],
    ['a label with a space', rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { labels: { required: ["a b"] } } }'), /grant\.labels\.required\[0\]: must be a label: letters, digits/],
    [
      'bind_to_run for an issuer that is not GitHub Actions',
      rule('{ name: r, issuer: idp, claims: { sub: a }, grant: { bind_to_run: true } }'),
      /rules\[1\] "r": grant\.bind_to_run: is for GitHub Actions tokens only/,
    ],
    ['an HMAC algorithm', `issuers: [{ name: idp, issuer: ${ISS}, audience: rts, algorithms: [HS256] }]\nrules: []`, /issuers\[0\] "idp": algorithms\[0\]: must be one of RS256, .* \(got "HS256"\)/],
    ['alg none', `issuers: [{ name: idp, issuer: ${ISS}, audience: rts, algorithms: [none] }]\nrules: []`, /algorithms\[0\]: must be one of RS256/],
    ['an issuer without audience', `issuers: [{ name: idp, issuer: ${ISS} }]\nrules: []`, /issuers\[0\] "idp": audience: is required/],
    ['a duration without a unit we know', `issuers: [{ name: idp, issuer: ${ISS}, audience: rts, max_token_lifetime: 1d }]\nrules: []`, /max_token_lifetime: must be a duration such as 3600s, 30m or 1h/],
    ['a clock tolerance over 60 s', `issuers: [{ name: idp, issuer: ${ISS}, audience: rts, clock_tolerance: 2m }]\nrules: []`, /clock_tolerance: must be from 0s to 1m \(got 2m\)/],
    ['an http issuer off this machine', `issuers: [{ name: idp, issuer: "http://idp.example", audience: rts }]\nrules: []`, /issuers\[0\] "idp": issuer: must be an https URL/],
    ['a duplicate issuer name', `issuers: [{ name: idp, issuer: ${ISS}, audience: a }, { name: idp, issuer: https://b.example, audience: a }]\nrules: []`, /issuers\[1\] "idp": name: is also the name of issuers\[0\]/],
    ['a duplicate iss', `issuers: [{ name: a, issuer: ${ISS}, audience: a }, { name: b, issuer: ${ISS}, audience: a }]\nrules: []`, /issuers\[1\] "b": issuer: is also the issuer of issuers\[0\]/],
    ['no issuer at all', 'rules: []', /issuers: no issuer is trusted: list issuers here, or set OIDC_ISSUER/],
  ])('%s', (_name, yaml, message) => {
    expect(policyProblems(yaml)).toMatch(message);
  });

  it('lists every problem, each on its own line, under the file name', () => {
    const message = policyProblems(`${IDP}rules:
  - { name: a, issuer: idp, grant: {} }
  - { name: b, issuer: nope, claims: { sub: x }, grant: {} }
`);
    expect(message).toBe(
      'Policy file policy.yaml is invalid:\n' +
        '  - rules[0] "a": claims: a rule needs at least one claim condition: without one it would match every token of issuer "idp" (as Vault refuses a role without bound claims)\n' +
        '  - rules[1] "b": issuer: no issuer is named "nope" or has it as iss (known: idp)',
    );
  });
});

describe("GitHub Actions' public issuer", () => {
  const gha = `issuers: [{ name: gha, issuer: ${GITHUB_ISS}, audience: rts }]\n`;

  it.each([
    ['a rule that does not bind the owner', '{ repository: my-org/api }', /rules\[0\] "r": claims: must bind repository_owner or repository_owner_id to exact values: any workflow on github\.com can get a token/],
    ['an owner bound by a pattern', '{ repository_owner: { pattern: "my-org" } }', /claims\.repository_owner: must be a non-empty exact value or a list of them, not a pattern/],
    ['an owner in a list with a pattern', '{ repository_owner: [my-org, { pattern: ".*" }] }', /claims\.repository_owner: must be a non-empty exact value/],
    ['an owner id written as a number', '{ repository_owner_id: 1234567 }', /claims\.repository_owner_id: GitHub Actions tokens carry every claim as a string: write "1234567" in quotes/],
    ['an empty owner', '{ repository_owner: "" }', /claims\.repository_owner: must be a non-empty exact value/],
  ])('refuses %s', (_name, claims, message) => {
    expect(policyProblems(`${gha}rules: [{ name: r, issuer: gha, claims: ${claims}, grant: {} }]`)).toMatch(message);
  });

  it('accepts an owner bound exactly, or to a list of exact owners', () => {
    expect(policyFrom(`${gha}rules: [{ name: r, issuer: gha, claims: { repository_owner: my-org, repository: { pattern: "my-org/.*" } }, grant: {} }]`).rules).toHaveLength(1);
    expect(policyFrom(`${gha}rules: [{ name: r, issuer: gha, claims: { repository_owner_id: ["1", "2"] }, grant: {} }]`).rules).toHaveLength(1);
  });

  it('refuses bind_to_run with labels or registration tokens', () => {
    const message = policyProblems(
      `${gha}rules: [{ name: r, issuer: gha, claims: { repository_owner: my-org }, grant: { bind_to_run: true, labels: { allowed: [a] }, registration_tokens: true } }]`,
    );
    expect(message).toMatch(/grant\.bind_to_run: cannot be combined with grant\.labels: a bound runner carries exactly one label/);
    expect(message).toMatch(/grant\.bind_to_run: cannot be combined with registration_tokens/);
  });
});

describe('the OIDC_* shorthand', () => {
  const shorthand = { issuer: ISS, audience: 'rts', jwksUrl: '' };

  it('without POLICY_FILE: the one issuer, named default, discovered keys, no rules, and a warning', () => {
    const loaded = loadPolicy({ ...LOAD_OPTIONS, shorthand });
    expect(loaded.policy).toMatchObject({ source: null, rules: null });
    expect(loaded.policy.issuers).toEqual([expect.objectContaining({ name: 'default', issuer: ISS, audiences: ['rts'], jwksUrl: undefined })]);
    expect(loaded.warnings).toEqual([NO_POLICY_FILE_WARNING]);
  });

  it("is refused without POLICY_FILE when it is GitHub Actions' public issuer", () => {
    expect(() => loadPolicy({ ...LOAD_OPTIONS, shorthand: { ...shorthand, issuer: GITHUB_ISS } })).toThrow(
      /OIDC_ISSUER is GitHub Actions' public issuer .*: any workflow on github\.com can get a token for audience "rts".*Set POLICY_FILE to a policy whose rules bind repository_owner or repository_owner_id/s,
    );
  });

  it('is merged with the file: rules may name it default', () => {
    const policy = policyFrom(`${IDP.replace(ISS, 'https://other.example')}rules: [{ name: r, issuer: default, claims: { sub: a }, grant: {} }]`, { shorthand });
    expect(policy.issuers.map((issuer) => issuer.name)).toEqual(['default', 'idp']);
    expect(policy.rules?.[0].issuer).toBe('default');
  });

  it('gives way to a file issuer with the same iss, with a warning', () => {
    const loaded = parsePolicy(`${IDP}rules: [{ name: r, issuer: idp, claims: { sub: a }, grant: {} }]`, 'policy.yaml', { ...LOAD_OPTIONS, shorthand });
    expect(loaded.policy.issuers.map((issuer) => issuer.name)).toEqual(['idp']);
    expect(loaded.warnings).toEqual([expect.stringContaining(`OIDC_ISSUER ${ISS} is also issuer "idp" of the policy file: the file's settings for it are used`)]);
    expect(policyProblems(`${IDP}rules: [{ name: r, issuer: default, claims: { sub: a }, grant: {} }]`, { shorthand })).toMatch(
      /issuer: "default" \(the OIDC_ISSUER shorthand\) is defined in this file as "idp": name that instead/,
    );
  });

  it('needs OIDC_AUDIENCE with OIDC_ISSUER', () => {
    const withoutAudience = { ...shorthand, audience: '' };
    expect(policyProblems(`${IDP}rules: []`, { shorthand: withoutAudience })).toMatch(/OIDC_AUDIENCE: is required with OIDC_ISSUER/);
    expect(() => loadPolicy({ ...LOAD_OPTIONS, shorthand: withoutAudience })).toThrow(/OIDC_AUDIENCE: is required with OIDC_ISSUER/);
  });

  it('keeps the name default for itself', () => {
    const file = `issuers: [{ name: default, issuer: https://other.example, audience: a }]\nrules: []`;
    expect(policyProblems(file, { shorthand })).toMatch(/issuers\[0\] "default": name: "default" is the name of the OIDC_ISSUER shorthand's issuer/);
  });

  it('is taken from the configuration only when OIDC_ISSUER is set', () => {
    expect(policyLoadOptions(EXAMPLE_AUTH_CONFIG).shorthand).toEqual({ issuer: 'https://issuer.example', audience: 'runner-token-service', jwksUrl: 'https://issuer.example/jwks' });
    expect(policyLoadOptions({ ...EXAMPLE_AUTH_CONFIG, issuer: '' }).shorthand).toBeUndefined();
  });
});

describe('with authentication off', () => {
  it('loads and checks the file, trusts no issuer, and says the rules apply to nobody', () => {
    const loaded = parsePolicy(EXAMPLE_POLICY_YAML, 'policy.yaml', { ...LOAD_OPTIONS, authEnabled: false });
    expect(loaded.policy.issuers).toEqual([]);
    expect(loaded.policy.rules).toHaveLength(4);
    expect(loaded.warnings).toEqual([AUTH_OFF_WITH_POLICY_WARNING]);
  });

  it('needs no issuer without a file', () => {
    expect(loadPolicy({ ...LOAD_OPTIONS, authEnabled: false }).policy).toMatchObject({ issuers: [], rules: null });
  });
});

describe('the JSON Schema for editors', () => {
  it('docs/policy.schema.json is the schema the loader uses (npm run policy:schema writes it)', () => {
    const docs = fileURLToPath(new URL('../../docs/policy.schema.json', import.meta.url));
    expect(readFileSync(docs, 'utf8')).toBe(`${JSON.stringify(POLICY_SCHEMA, null, 2)}\n`);
  });
});
