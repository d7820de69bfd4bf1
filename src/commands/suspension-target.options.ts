/** The selector flags of suspend-identity and resume-identity, read together into one target. */
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { type SuspensionTarget, suspensionTargetOf } from '../suspensions/suspension-target.js';
import { UsageError } from './cli-errors.js';

export interface SuspensionTargetOptions {
  issuer?: string;
  subject?: string;
  rule?: string;
}

export const ISSUER_OPTION = {
  flags: '--issuer <url>',
  description: "With --subject: the identity's token iss, an https:// URL, exactly as the token carries it",
};
export const SUBJECT_OPTION = { flags: '--subject <sub>', description: "With --issuer: the identity's token sub" };
export const RULE_OPTION = { flags: '--rule <name>', description: 'Instead of --issuer and --subject: everyone this policy rule matched' };

/** The target the flags name; both selectors, neither, or a bad value is bad usage (exit 2). */
export function targetFromOptions(options: SuspensionTargetOptions): SuspensionTarget {
  try {
    return suspensionTargetOf(options, (field) => `--${field}`);
  } catch (error) {
    if (error instanceof DomainError && error.code === ERROR_CODES.VALIDATION_FAILED) throw new UsageError(error.message);
    throw error;
  }
}
