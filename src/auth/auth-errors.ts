import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';

/**
 * Why a request was not authenticated. The first three answer 401; AUTH_UNAVAILABLE answers 503
 * because the caller's token is not at fault when the issuer's keys (JWKS) cannot be fetched.
 */
export type AuthErrorCode = 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'TOKEN_INVALID' | 'AUTH_UNAVAILABLE';

/** What was wrong with a refused token, for machines: `error.details.reason`. */
export const TOKEN_REJECTION_REASONS = [
  'malformed',
  'issuer_unknown',
  'algorithm',
  'kid_invalid',
  'key_unknown',
  'signature',
  'expired',
  'not_yet_valid',
  'issued_in_future',
  'lifetime',
  'audience',
  'claims',
] as const;
export type TokenRejectionReason = (typeof TOKEN_REJECTION_REASONS)[number];

/** Every `error.details.reason` authentication answers with: a refused token's, or none sent, or no keys. */
export type AuthFailureReason = TokenRejectionReason | 'missing' | 'keys_unavailable';

export const AUTH_REALM = 'runner-token-service';

export const MISSING_TOKEN_MESSAGE = 'Send an OIDC token in the Authorization header: Bearer <token>';

export const MALFORMED_TOKEN_MESSAGE =
  'The bearer token is not a well-formed signed JWT (base64url header.payload.signature)';

export const KEYS_UNAVAILABLE_MESSAGE = "The issuer's signing keys (JWKS) cannot be fetched right now; retry in a minute";

/** The same body shape as every other error: `{ error: { code, message, details }, request_id }`. */
export interface AuthErrorBody {
  error: { code: AuthErrorCode; message: string; details: { reason: AuthFailureReason } };
  request_id: string | null;
}

export interface AuthFailure {
  code: AuthErrorCode;
  reason: AuthFailureReason;
  /**
   * What the caller should change. Never contains the token, nor the configured issuer, audience
   * or JWKS URL: a caller probing the service learns nothing about its setup.
   */
  message: string;
}

/**
 * A token refused: a reason for machines, a message for the caller, and for the log only, what
 * exactly did not match (configured values, jose's own words). Never carries the token.
 */
export class TokenRejectedError extends Error {
  readonly code: 'TOKEN_EXPIRED' | 'TOKEN_INVALID';

  constructor(
    readonly reason: TokenRejectionReason,
    message: string,
    /** For the log only. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'TokenRejectedError';
    this.code = reason === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
  }

  get failure(): AuthFailure {
    return { code: this.code, reason: this.reason, message: this.message };
  }
}

/** The issuer's keys could not be fetched and none are cached: the service cannot tell good tokens from bad. */
export class KeysUnavailableError extends Error {
  constructor(
    /** For the log only: which issuer, from where, and why it failed. */
    readonly detail: string,
  ) {
    super(KEYS_UNAVAILABLE_MESSAGE);
    this.name = 'KeysUnavailableError';
  }
}

export function authErrorBody(failure: AuthFailure, requestId: string | undefined): AuthErrorBody {
  return {
    error: { code: failure.code, message: failure.message, details: { reason: failure.reason } },
    request_id: requestId ?? null,
  };
}

/** 401 whose response is the complete error body (no `statusCode`/`message` added by Nest). */
export class AuthenticationFailedException extends UnauthorizedException {
  constructor(
    readonly failure: AuthFailure,
    requestId: string | undefined,
  ) {
    super(authErrorBody(failure, requestId));
  }
}

/** 503 when the issuer's JWKS cannot be fetched (down, too slow, too large, or without signing keys). */
export class AuthUnavailableException extends ServiceUnavailableException {
  constructor(
    readonly failure: AuthFailure,
    requestId: string | undefined,
  ) {
    super(authErrorBody(failure, requestId));
  }
}

/**
 * The RFC 6750 challenge. A request without credentials gets no error attributes (section 3.1);
 * a rejected token gets `error="invalid_token"` and the message as `error_description`.
 */
export function wwwAuthenticateHeader(failure: AuthFailure): string {
  const challenge = `Bearer realm="${AUTH_REALM}"`;
  if (failure.code === 'UNAUTHENTICATED' || failure.code === 'AUTH_UNAVAILABLE') {
    return challenge;
  }
  // error_description allows printable ASCII except `"` and `\` (RFC 6750 section 3).
  const description = failure.message.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
  return `${challenge}, error="invalid_token", error_description="${description}"`;
}
