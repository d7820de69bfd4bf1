#!/usr/bin/env node
/**
 * What the access policy costs a provisioning: decideProvision over a policy of 50 rules, the caller
 * matching only the last one (every rule before it is tried: the worst case), measured in this process
 * against the compiled evaluator in dist/. Target: under 0.2 ms a request.
 *
 *   npm run build && node bench/policy.mjs    (prints one line; --json for one JSON object)
 */
import { checkDist, fromDist, round } from './support.mjs';

checkDist(['policy/policy.loader.js', 'policy/policy.evaluator.js']);
const { parsePolicy } = await fromDist('policy/policy.loader.js');
const { decideProvision } = await fromDist('policy/policy.evaluator.js');

const RULES = 50;
const CALLS = 20_000;
const issuer = 'https://token.actions.githubusercontent.com';
const rules = Array.from({ length: RULES }, (_, i) => [
  `  - name: rule-${i}`,
  '    issuer: default',
  '    claims:',
  '      repository_owner: my-org',
  `      repository: { pattern: "my-org/(api|web|repo-${i})" }`,
  '      ref: [refs/heads/main, refs/heads/release]',
  '    grant:',
  '      labels: { required: [ci], allowed: [{ pattern: "gpu|large" }, arm64] }',
  '      runner_groups: [1, 3]',
].join('\n'));
const text = `rules:\n${rules.join('\n')}\n`;
const { policy } = parsePolicy(text, 'bench-policy.yaml', {
  file: 'bench-policy.yaml',
  authEnabled: true,
  shorthand: { issuer, audience: 'runner-token-service', jwksUrl: `${issuer}/.well-known/jwks` },
  displayClaim: 'email',
  clockToleranceSeconds: 30,
});
const caller = {
  issuer,
  issuerName: 'default',
  claims: { repository_owner: 'my-org', repository: `my-org/repo-${RULES - 1}`, ref: 'refs/heads/main', sub: 'repo:x' },
};
const ask = { kind: 'jit', labels: ['ci', 'gpu'], runnerGroupId: 3 };
const settings = { systemLabels: ['self-hosted', 'linux', 'x64'], defaultRunnerGroupId: 1 };
const first = decideProvision(policy, caller, ask, settings);
if (!first.allowed || first.rule !== `rule-${RULES - 1}`) throw new Error(`expected rule-${RULES - 1} to allow, got ${JSON.stringify(first)}`);
for (let i = 0; i < 2_000; i++) decideProvision(policy, caller, ask, settings);
const started = performance.now();
for (let i = 0; i < CALLS; i++) decideProvision(policy, caller, ask, settings);
const perCallMs = (performance.now() - started) / CALLS;
const result = { rules: RULES, calls: CALLS, perCallMs: round(perCallMs, 4), target: 0.2, met: perCallMs < 0.2 };
process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(result)}\n` : `policy of ${RULES} rules, last one matching: ${result.perCallMs} ms a decision (target < 0.2 ms)\n`);
