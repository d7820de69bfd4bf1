/**
 * What a hostile caller (or a careless rule) could do, and the policy's answer: reserved run labels,
 * patterns that backtrack without end, claim paths a token could steer, and endless claim values.
 */
import { EXAMPLE_POLICY_YAML, githubClaims, kubernetesClaims, policyFrom, policyProblems, SETTINGS } from '../../test/support/policy-fixtures.js';
import { MAX_PATTERN_TEXT_LENGTH, resolveClaim } from './claim-conditions.js';
import { hasNestedQuantifier } from './policy-rules.js';
import { decideProvision, matchRule } from './policy.evaluator.js';
import type { PolicyCaller } from './policy.types.js';

const ISS = 'https://issuer.example';
const caller = (claims: Record<string, unknown>, issuer = ISS): PolicyCaller => ({ issuer, claims });

describe('run labels are reserved for bind_to_run', () => {
  const permissive = policyFrom(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules: [{ name: anything, issuer: idp, claims: { sub: alice }, grant: { labels: { allowed: [{ pattern: "[a-z0-9-]+" }] } } }]
`);

  it.each([
    ['a rule whose pattern would allow it', permissive, caller({ sub: 'alice' })],
    ['no policy file at all', { ...permissive, rules: null }, caller({ sub: 'alice' })],
  ])("refuses another run's label under %s", (_case, policy, who) => {
    const decision = decideProvision(policy, who, { kind: 'jit', labels: ['gpu', 'run-7000000001-1'] }, SETTINGS);
    expect(decision).toMatchObject({ allowed: false, code: 'LABEL_NOT_ALLOWED' });
    expect(!decision.allowed && decision.message).toMatch(/"run-7000000001-1" is reserved/);
  });

  it('still lets a label that only looks alike through', () => {
    const decision = decideProvision(permissive, caller({ sub: 'alice' }), { kind: 'jit', labels: ['run-tests', 'run-1-x'] }, SETTINGS);
    expect(decision.allowed).toBe(true);
  });

  it('refuses a rule that requires one, at load', () => {
    expect(
      policyProblems(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules: [{ name: sticky, issuer: idp, claims: { sub: alice }, grant: { labels: { required: [run-1-1] } } }]
`),
    ).toMatch(/rules\[0\] "sticky": grant\.labels\.required\[0\]: "run-1-1" is reserved/);
  });

  it('gives the bound runner its own run label', () => {
    const policy = policyFrom(EXAMPLE_POLICY_YAML);
    const job = githubClaims({
      repository: 'my-org/ci',
      job_workflow_ref: 'my-org/ci/.github/workflows/build.yml@refs/heads/main',
      run_id: '555',
      run_attempt: '3',
    });
    const decision = decideProvision(policy, caller(job, 'https://token.actions.githubusercontent.com'), { kind: 'jit', labels: [] }, SETTINGS);
    expect(decision).toMatchObject({ allowed: true, rule: 'per-run-builds', labels: ['run-555-3'] });
  });
});

describe('patterns that could stall the service', () => {
  it.each([
    ['(a+)+', true],
    ['([a-z0-9]+-?)+', true],
    ['refs/heads/([a-z0-9]+-?)*', true],
    ['(x*)*', true],
    ['(?:ab{2,})+', true],
    ['((a)+)+', true],
    ['(a|b)+', false],
    ['my-org/(api|web)', false],
    ['team-a-.*', false],
    ['[(]a+[)]+', false],
    ['\\(a+\\)+', false],
    ['(a+)?', false],
    ['(a+)b+', false],
  ])('%s: nested unbounded repetition %s', (pattern, nested) => {
    expect(hasNestedQuantifier(pattern)).toBe(nested);
  });

  it('refuses such a pattern at load, naming the rule and the claim', () => {
    expect(
      policyProblems(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules: [{ name: branches, issuer: idp, claims: { sub: alice, ref: { pattern: "refs/heads/([a-z0-9]+-?)+" } }, grant: {} }]
`),
    ).toMatch(/rules\[0\] "branches": claims\.ref\.pattern: a repeated group that itself repeats/);
  });

  it('never runs a pattern on a claim value longer than the cap', () => {
    const policy = policyFrom(`
issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]
rules: [{ name: long, issuer: idp, claims: { note: { pattern: "a.*" } }, grant: {} }]
`);
    expect(matchRule(policy, caller({ note: 'a'.repeat(MAX_PATTERN_TEXT_LENGTH) })).matched).toBe(true);
    expect(matchRule(policy, caller({ note: 'a'.repeat(MAX_PATTERN_TEXT_LENGTH + 1) })).matched).toBe(false);
  });
});

describe('claim paths a token could steer', () => {
  it('finds a dotted claim in either shape, but not when the token carries both', () => {
    const nested = kubernetesClaims();
    expect(resolveClaim(nested, 'kubernetes.io.namespace')).toEqual({ found: true, value: 'team-a' });
    expect(resolveClaim({ 'kubernetes.io.namespace': 'team-a' }, 'kubernetes.io.namespace')).toEqual({ found: true, value: 'team-a' });
    expect(resolveClaim({ ...nested, 'kubernetes.io.namespace': 'team-b' }, 'kubernetes.io.namespace')).toEqual({ found: false });
  });
});
