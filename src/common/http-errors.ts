import { HttpStatus } from '@nestjs/common';
import { ERROR_CODES, type ErrorCode } from './domain-error.js';

/** The HTTP status each domain error code answers with. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  [ERROR_CODES.VALIDATION_FAILED]: HttpStatus.BAD_REQUEST,
  [ERROR_CODES.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
  [ERROR_CODES.FORBIDDEN]: HttpStatus.FORBIDDEN,
  [ERROR_CODES.REGISTRATION_TOKENS_DISABLED]: HttpStatus.FORBIDDEN,
  [ERROR_CODES.RUNNER_NOT_FOUND]: HttpStatus.NOT_FOUND,
  [ERROR_CODES.RUNNER_NAME_TAKEN]: HttpStatus.CONFLICT,
  [ERROR_CODES.RUNNER_BUSY]: HttpStatus.CONFLICT,
  [ERROR_CODES.GITHUB_NAME_TAKEN]: HttpStatus.CONFLICT,
  [ERROR_CODES.GITHUB_RUNNER_BUSY]: HttpStatus.CONFLICT,
  [ERROR_CODES.GITHUB_UNAVAILABLE]: HttpStatus.BAD_GATEWAY,
  [ERROR_CODES.GITHUB_PERMISSION_DENIED]: HttpStatus.BAD_GATEWAY,
  [ERROR_CODES.GITHUB_REJECTED]: HttpStatus.BAD_GATEWAY,
  [ERROR_CODES.GITHUB_RATE_LIMITED]: HttpStatus.SERVICE_UNAVAILABLE,
  [ERROR_CODES.GITHUB_TIMEOUT]: HttpStatus.GATEWAY_TIMEOUT,
  [ERROR_CODES.INTERNAL]: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** The one error body every endpoint answers with. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
  request_id: string | null;
}
