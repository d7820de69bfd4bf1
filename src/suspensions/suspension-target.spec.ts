import { DomainError } from '../common/domain-error.js';
import { type SuspensionSelector, suspensionTargetOf } from './suspension-target.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'repo:my-org/api:ref:refs/heads/main';

/** The error a selector is refused with: its message and the field it names. */
function refusal(selector: SuspensionSelector, name?: (field: string) => string): { message: string; field: unknown } {
  try {
    suspensionTargetOf(selector, name);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    expect(error.code).toBe('VALIDATION_FAILED');
    const violations = error.details?.violations as { field: string; message: string }[];
    expect(violations).toHaveLength(1);
    expect(violations[0].message).toBe(error.message);
    return { message: error.message, field: violations[0].field };
  }
  throw new Error(`accepted ${JSON.stringify(selector)}`);
}

describe('suspensionTargetOf', () => {
  it('takes issuer and subject as one identity', () => {
    expect(suspensionTargetOf({ issuer: ISSUER, subject: SUBJECT })).toEqual({ kind: 'identity', issuer: ISSUER, subject: SUBJECT });
    // A local issuer is an http URL (tests, a cluster-internal IdP).
    expect(suspensionTargetOf({ issuer: 'http://127.0.0.1:8080', subject: 's' })).toMatchObject({ kind: 'identity' });
  });

  it('takes rule alone as everyone the rule matched', () => {
    expect(suspensionTargetOf({ rule: 'ci-main-repos' })).toEqual({ kind: 'rule', rule: 'ci-main-repos' });
  });

  it.each<[string, SuspensionSelector, string, RegExp]>([
    ['neither form', {}, 'issuer', /^send either issuer and subject \(one identity\) or rule \(everyone a policy rule matched\)$/],
    ['nulls only', { issuer: null, subject: null, rule: null }, 'issuer', /^send either issuer and subject/],
    ['both forms', { issuer: ISSUER, subject: SUBJECT, rule: 'ci' }, 'rule', /^send either .* not both$/],
    ['rule with a subject', { subject: SUBJECT, rule: 'ci' }, 'rule', /not both$/],
    ['issuer without subject', { issuer: ISSUER }, 'subject', /^subject is required with issuer: send the token's iss and sub together, or rule alone$/],
    ['subject without issuer', { subject: SUBJECT }, 'issuer', /^issuer is required with subject/],
    ['an issuer that is no URL', { issuer: 'login.example.com', subject: SUBJECT }, 'issuer', /^issuer must be the token's iss exactly as it carries it: an https:\/\/ \(or http:\/\/\) URL$/],
    ['the local identity', { issuer: 'local', subject: 'local-user' }, 'issuer', /^issuer must be/],
    ['another scheme', { issuer: 'ftp://example.com', subject: SUBJECT }, 'issuer', /^issuer must be/],
    ['an issuer with spaces around it', { issuer: ` ${ISSUER}`, subject: SUBJECT }, 'issuer', /^issuer must be/],
    ['a number as issuer', { issuer: 42, subject: SUBJECT }, 'issuer', /^issuer must be/],
    ['a blank subject', { issuer: ISSUER, subject: '  ' }, 'subject', /^subject must be the token's sub exactly as it carries it: 1 to 1024 characters$/],
    ['a subject too long', { issuer: ISSUER, subject: 'x'.repeat(1025) }, 'subject', /^subject must be/],
    ['a subject with a newline', { issuer: ISSUER, subject: 'a\nb' }, 'subject', /^subject must be/],
    ['an empty rule', { rule: '' }, 'rule', /^rule must be a policy rule's name exactly as the policy file has it: 1 to 128 characters$/],
    ['a rule that is no string', { rule: ['ci'] }, 'rule', /^rule must be/],
    ['a rule too long', { rule: 'r'.repeat(129) }, 'rule', /^rule must be/],
  ])('refuses %s, naming the field and what to send', (_case, selector, field, message) => {
    const refused = refusal(selector);
    expect(refused.field).toBe(field);
    expect(refused.message).toMatch(message);
  });

  it('names the fields as the caller typed them (the CLI: --issuer, --subject, --rule)', () => {
    const flag = (field: string) => `--${field}`;
    expect(refusal({ issuer: ISSUER, subject: SUBJECT, rule: 'ci' }, flag)).toEqual({
      field: '--rule',
      message: 'send either --issuer and --subject (one identity) or --rule (everyone a policy rule matched), not both',
    });
    expect(refusal({}, flag).message).toBe('send either --issuer and --subject (one identity) or --rule (everyone a policy rule matched)');
  });
});
