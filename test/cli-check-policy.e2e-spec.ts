import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, configScopeFor } from '../src/commands/run-cli.js';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { cli } from './support/cli.js';
import { EXAMPLE_POLICY_YAML, githubClaims, kubernetesClaims } from './support/policy-fixtures.js';

describe('check-policy (CLI)', () => {
  let folder: string;
  let config: AppConfig;
  let policy: string;
  /** A CI job of my-org/api on main (not the per-run workflow, so ci-main-repos decides). */
  let ciClaims: string;

  const file = (name: string, content: unknown) => {
    const path = join(folder, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const check = (...args: string[]) => cli(config, 'check-policy', '--policy', policy, ...args);

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rts-check-policy-'));
    // No DATABASE_URL, no GitHub App, no OIDC: the environment of a policy repository's CI.
    config = loadConfig({}, { scope: configScopeFor(['node', 'cli.js', 'check-policy']) });
    policy = file('policy.yaml', EXAMPLE_POLICY_YAML);
    ciClaims = file('ci-claims.json', githubClaims({ job_workflow_ref: 'my-org/api/.github/workflows/ci.yml@refs/heads/main' }));
  });

  describe('validating a file', () => {
    it('exits 0 and names the issuers and rules of a valid file', async () => {
      const result = await check();
      expect(result).toEqual({
        code: EXIT_OK,
        stdout: `Policy ${policy} is valid: 3 issuers (github-actions, cluster-a, corp), 4 rules (per-run-builds, ci-main-repos, team-a-pods, platform-admins).\n`,
        stderr: '',
      });
      const json = await check('--json');
      expect(JSON.parse(json.stdout)).toEqual({
        policy,
        valid: true,
        issuers: ['github-actions', 'cluster-a', 'corp'],
        rules: ['per-run-builds', 'ci-main-repos', 'team-a-pods', 'platform-admins'],
        warnings: [],
      });
    });

    it("exits 1 with the loader's message for an invalid file", async () => {
      const bad = file('bad.yaml', EXAMPLE_POLICY_YAML.replace('{ pattern: "gpu|large" }', '{ pattern: "(gpu" }'));
      const result = await cli(config, 'check-policy', '--policy', bad);
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stdout).toBe(
        `Policy file ${bad} is invalid:\n  - rules[1] "ci-main-repos": grant.labels.allowed[0].pattern: invalid regular expression: Unterminated group\n`,
      );
      const json = await cli(config, 'check-policy', '--policy', bad, '--json');
      expect(json.code).toBe(EXIT_FAILURE);
      expect(JSON.parse(json.stdout)).toEqual({
        policy: bad,
        valid: false,
        problems: ['rules[1] "ci-main-repos": grant.labels.allowed[0].pattern: invalid regular expression: Unterminated group'],
      });
    });

    it('merges the OIDC_* shorthand from the environment, as the service does', async () => {
      const withDefault = file('shorthand.yaml', 'rules: [{ name: r, issuer: default, claims: { sub: alice }, grant: {} }]\n');
      const env = { OIDC_ISSUER: 'https://issuer.example', OIDC_AUDIENCE: 'rts' };
      const result = await cli(loadConfig(env, { scope: 'policy' }), 'check-policy', '--policy', withDefault);
      expect(result.stdout).toBe(`Policy ${withDefault} is valid: 1 issuer (default), 1 rule (r).\n`);
      expect((await cli(config, 'check-policy', '--policy', withDefault)).stdout).toMatch(/no issuer is named "default"/);
    });
  });

  describe('deciding a request', () => {
    it('exits 0 on allow, with the rule, each reason, the labels and the group', async () => {
      const request = file('request.json', { runner_name_prefix: 'build', labels: [' GPU ', 'gpu', 'linux'] });
      const result = await check('--claims', ciClaims, '--request', request);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stdout).toBe(
        [
          'ALLOW: a JIT runner for this token of issuer "github-actions"',
          'Rule:          ci-main-repos',
          'Labels:        self-hosted, linux, x64, ci, gpu',
          'Runner group:  3',
          'Limits:        max_runners 20, max_runners_per_identity 4',
          'Reasons:',
          '  - rule "ci-main-repos" of issuer "github-actions" matched on repository_owner, ref, repository',
          '  - system labels first: self-hosted, linux, x64',
          '  - required by the rule: ci',
          '  - label "gpu": allowed by pattern "gpu|large"',
          "  - runner group 3: the rule's default",
          '  - limits: max_runners 20 (every identity of the rule together), max_runners_per_identity 4',
          'Quotas (max_runners, max_runners_per_identity) and suspensions are checked when the request is made, against the database; not here.',
          '',
        ].join('\n'),
      );
      const json = await check('--claims', ciClaims, '--request', request, '--json');
      expect(JSON.parse(json.stdout)).toEqual({
        policy,
        valid: true,
        kind: 'jit',
        issuer: 'github-actions',
        rule: 'ci-main-repos',
        status: 201,
        decision: 'allow',
        labels: ['self-hosted', 'linux', 'x64', 'ci', 'gpu'],
        runner_group_id: 3,
        limits: { max_runners: 20, max_runners_per_identity: 4 },
        matched_claims: { repository_owner: 'my-org', repository: 'my-org/api', ref: 'refs/heads/main' },
        reasons: expect.any(Array),
        checked_later: ['quotas', 'suspensions'],
      });
    });

    it('exits 1 on deny, with the code, the status, the message and the reasons', async () => {
      const request = file('deploy.json', { runner_name: 'deployer', labels: ['production-deploy'] });
      const result = await check('--claims', ciClaims, '--request', request);
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^DENY: LABEL_NOT_ALLOWED \(HTTP 403\) for a JIT runner of issuer "github-actions"\nRule: {10}ci-main-repos\nMessage: {7}Label "production-deploy" is not allowed by rule "ci-main-repos"/);
      const json = JSON.parse((await check('--claims', ciClaims, '--request', request, '--json')).stdout);
      expect(json).toMatchObject({ decision: 'deny', code: 'LABEL_NOT_ALLOWED', status: 403, rule: 'ci-main-repos' });
    });

    it('decides registration tokens with --kind registration_token', async () => {
      const pods = file('pod-claims.json', kubernetesClaims());
      const request = file('provision.json', { runner_name: 'pod-runner', labels: ['team-a-build'], ephemeral: true });
      expect((await check('--claims', pods, '--request', request, '--kind', 'registration_token')).code).toBe(EXIT_OK);
      const ci = await check('--claims', ciClaims, '--request', request, '--kind', 'registration_token');
      expect(ci.code).toBe(EXIT_FAILURE);
      expect(ci.stdout).toMatch(/^DENY: REGISTRATION_TOKENS_NOT_ALLOWED \(HTTP 403\) for a registration token/);
    });

    it('shows the one label of a runner bound to the workflow run, and refuses labels for it', async () => {
      const runClaims = file('run-claims.json', githubClaims({ run_id: '555', run_attempt: '3' }));
      const bound = await check('--claims', runClaims, '--request', file('bound.json', { runner_name_prefix: 'run' }), '--json');
      expect(JSON.parse(bound.stdout)).toMatchObject({ decision: 'allow', rule: 'per-run-builds', labels: ['run-555-3'], runner_group_id: 3 });
      const withLabels = await check('--claims', runClaims, '--request', file('bound-labels.json', { runner_name_prefix: 'run', labels: ['gpu'] }));
      expect(withLabels.code).toBe(EXIT_FAILURE);
      expect(withLabels.stdout).toMatch(/^DENY: VALIDATION_FAILED \(HTTP 400\)[^\n]*\nRule: {10}per-run-builds\nMessage: {7}labels must be left out/);
    });

    it('checks the labels with the API rules, and refuses an issuer the service would not authenticate', async () => {
      const comma = await check('--claims', ciClaims, '--request', file('comma.json', { runner_name: 'x', labels: ['gpu,large'] }), '--json');
      expect(JSON.parse(comma.stdout)).toMatchObject({ decision: 'deny', code: 'VALIDATION_FAILED', field: 'labels', status: 400 });
      const stranger = file('stranger.json', githubClaims({ iss: 'https://token.example' }));
      const result = await check('--claims', stranger, '--request', file('r.json', { labels: ['gpu'] }));
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stdout).toMatch(/^DENY: UNAUTHENTICATED \(HTTP 401\).*\n.*\nMessage: {7}The token's iss "https:\/\/token\.example" is not a trusted issuer/);
      const wrongAudience = file('aud.json', githubClaims({ aud: 'someone-else' }));
      expect((await check('--claims', wrongAudience, '--request', file('r2.json', { labels: ['gpu'] }))).stdout).toMatch(
        /The token's aud is not one issuer "github-actions" accepts/,
      );
    });
  });

  describe('bad usage exits 2', () => {
    it.each([
      ['no --policy', () => cli(config, 'check-policy'), /required option '--policy <file>' not specified/],
      ['a policy file that does not exist', () => cli(config, 'check-policy', '--policy', join(folder, 'none.yaml')), /Error: Cannot read the policy file .*none\.yaml: it does not exist\./],
      ['--claims without --request', () => check('--claims', ciClaims), /Give both --claims .* and --request/],
      ['--request without --claims', () => check('--request', ciClaims), /Give both --claims/],
      ['--kind without --claims', () => check('--kind', 'jit'), /--kind goes with --claims and --request/],
      ['a --kind that does not exist', () => check('--claims', ciClaims, '--request', ciClaims, '--kind', 'pat'), /Choose one of: jit, registration_token/],
      ['claims that are not JSON', () => check('--claims', file('broken.json', '{"iss": '), '--request', ciClaims), /broken\.json is not JSON/],
      ['claims that are not an object', () => check('--claims', file('list.json', '[]'), '--request', ciClaims), /list\.json must hold the token's claims as a JSON object/],
      ['claims without iss', () => check('--claims', file('no-iss.json', { sub: 'x' }), '--request', ciClaims), /no-iss\.json has no "iss"/],
    ])('%s', async (_name, run, message) => {
      const result = await run();
      expect(result.code).toBe(EXIT_USAGE);
      expect(result.stderr).toMatch(message);
    });
  });

  it('describes its options with --help', async () => {
    const help = await cli(config, 'check-policy', '--help');
    expect(help.code).toBe(EXIT_OK);
    expect(help.stdout).toMatch(/--claims <file>/);
  });
});
