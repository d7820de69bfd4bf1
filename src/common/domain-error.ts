import { isDatabaseUnavailable } from '../database/database-errors.js';

/**
 * Errors that services throw. Each carries a stable machine-readable code; one exception filter
 * maps codes to HTTP statuses and the CLI maps them to exit codes. Services never throw HTTP
 * exceptions, so the same method serves HTTP, the CLI and the scheduler.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A webhook delivery whose X-Hub-Signature-256 is missing or does not match its body: 401. */
  WEBHOOK_SIGNATURE_INVALID: 'WEBHOOK_SIGNATURE_INVALID',
  FORBIDDEN: 'FORBIDDEN',
  REGISTRATION_TOKENS_DISABLED: 'REGISTRATION_TOKENS_DISABLED',
  /** Policy refusals (403): no rule matched the caller, or its grant does not cover the request. */
  POLICY_NO_MATCH: 'POLICY_NO_MATCH',
  LABEL_NOT_ALLOWED: 'LABEL_NOT_ALLOWED',
  RUNNER_GROUP_NOT_ALLOWED: 'RUNNER_GROUP_NOT_ALLOWED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  REGISTRATION_TOKENS_NOT_ALLOWED: 'REGISTRATION_TOKENS_NOT_ALLOWED',
  IDENTITY_SUSPENDED: 'IDENTITY_SUSPENDED',
  RUNNER_NOT_FOUND: 'RUNNER_NOT_FOUND',
  RUNNER_NAME_TAKEN: 'RUNNER_NAME_TAKEN',
  RUNNER_BUSY: 'RUNNER_BUSY',
  GITHUB_UNAVAILABLE: 'GITHUB_UNAVAILABLE',
  GITHUB_TIMEOUT: 'GITHUB_TIMEOUT',
  GITHUB_RATE_LIMITED: 'GITHUB_RATE_LIMITED',
  GITHUB_PERMISSION_DENIED: 'GITHUB_PERMISSION_DENIED',
  GITHUB_REJECTED: 'GITHUB_REJECTED',
  GITHUB_NAME_TAKEN: 'GITHUB_NAME_TAKEN',
  GITHUB_RUNNER_BUSY: 'GITHUB_RUNNER_BUSY',
  /** Too many requests a minute from one address or one identity (RATE_LIMIT_*): 429 with Retry-After. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The request's total budget (REQUEST_DEADLINE_MS) ran out: 504. */
  REQUEST_DEADLINE_EXCEEDED: 'REQUEST_DEADLINE_EXCEEDED',
  /** PostgreSQL cannot be reached, or cannot answer now: 503 with Retry-After. */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/**
 * The code of a domain error; DATABASE_UNAVAILABLE for a database out of reach; INTERNAL for
 * anything else (whose text is not for callers).
 */
export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof DomainError) return error.code;
  return isDatabaseUnavailable(error) ? ERROR_CODES.DATABASE_UNAVAILABLE : ERROR_CODES.INTERNAL;
}
