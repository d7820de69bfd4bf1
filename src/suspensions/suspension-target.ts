/**
 * What a suspension targets, and the one check of a selector (the admin API's body, the CLI's
 * flags): either an identity (issuer and subject) or a policy rule, never both, never neither.
 */
import { DomainError, ERROR_CODES } from '../common/domain-error.js';

/** An identity as its tokens name it: ownership and suspension are bound to issuer + subject. */
export interface SuspendedIdentity {
  issuer: string;
  subject: string;
}

export type SuspensionTarget = ({ kind: 'identity' } & SuspendedIdentity) | { kind: 'rule'; rule: string };

/** The selector as it arrives: any field may be missing or of the wrong type. */
export interface SuspensionSelector {
  issuer?: unknown;
  subject?: unknown;
  rule?: unknown;
}

export const SUBJECT_MAX_LENGTH = 1024;
export const RULE_MAX_LENGTH = 128;
/** A token's `iss` is a URL; the local development identity ('local') and system actors are never suspended. */
export const ISSUER_RULE = "the token's iss exactly as it carries it: an https:// (or http://) URL";
export const SUBJECT_RULE = `the token's sub exactly as it carries it: 1 to ${SUBJECT_MAX_LENGTH} characters`;
export const RULE_RULE = `a policy rule's name exactly as the policy file has it: 1 to ${RULE_MAX_LENGTH} characters`;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function isUrl(value: string): boolean {
  if (value !== value.trim() || CONTROL_CHARACTERS.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '';
  } catch {
    return false;
  }
}

const isText = (value: unknown, maxLength: number): value is string =>
  typeof value === 'string' && value.trim() !== '' && value.length <= maxLength && !CONTROL_CHARACTERS.test(value);

/**
 * The target a selector names, or VALIDATION_FAILED saying what to send instead. `name` turns a
 * field into what the caller typed (`--issuer` for the CLI); messages and violations use it.
 */
export function suspensionTargetOf(selector: SuspensionSelector, name: (field: string) => string = (field) => field): SuspensionTarget {
  const has = (field: keyof SuspensionSelector) => selector[field] !== undefined && selector[field] !== null;
  const [issuer, subject, rule] = [name('issuer'), name('subject'), name('rule')];
  const fail = (field: string, message: string): never => {
    throw new DomainError(ERROR_CODES.VALIDATION_FAILED, message, { violations: [{ field, message }] });
  };

  if (has('rule')) {
    if (has('issuer') || has('subject')) {
      fail(rule, `send either ${issuer} and ${subject} (one identity) or ${rule} (everyone a policy rule matched), not both`);
    }
    if (!isText(selector.rule, RULE_MAX_LENGTH)) fail(rule, `${rule} must be ${RULE_RULE}`);
    return { kind: 'rule', rule: selector.rule as string };
  }
  if (!has('issuer') && !has('subject')) {
    fail(issuer, `send either ${issuer} and ${subject} (one identity) or ${rule} (everyone a policy rule matched)`);
  }
  if (!has('subject')) fail(subject, `${subject} is required with ${issuer}: send the token's iss and sub together, or ${rule} alone`);
  if (!has('issuer')) fail(issuer, `${issuer} is required with ${subject}: send the token's iss and sub together, or ${rule} alone`);
  if (typeof selector.issuer !== 'string' || !isUrl(selector.issuer)) fail(issuer, `${issuer} must be ${ISSUER_RULE}`);
  if (!isText(selector.subject, SUBJECT_MAX_LENGTH)) fail(subject, `${subject} must be ${SUBJECT_RULE}`);
  return { kind: 'identity', issuer: selector.issuer as string, subject: selector.subject as string };
}

/** The target for people (logs): `the identity "sub" of issuer iss` or `everyone the policy rule "name" matched`. */
export function describeTarget(target: SuspensionTarget): string {
  return target.kind === 'identity'
    ? `the identity ${JSON.stringify(target.subject)} of issuer ${target.issuer}`
    : `everyone the policy rule ${JSON.stringify(target.rule)} matched`;
}
