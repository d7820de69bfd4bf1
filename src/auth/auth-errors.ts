import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { AuthConfig } from '../config/app-config.js';

/**
 * Why a request was not authenticated. The first three answer 401; AUTH_UNAVAILABLE answers 503
 * because the caller's token is not at fault when the issuer's keys (JWKS) cannot be fetched.
 */
export type AuthErrorCode = 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'TOKEN_INVALID' | 'AUTH_UNAVAILABLE';

export const AUTH_REALM = 'runner-token-service';

export const MISSING_TOKEN_MESSAGE = 'Send an OIDC token in the Authorization header: Bearer <token>';

export const MALFORMED_TOKEN_MESSAGE =
  'The bearer token is not a well-formed signed JWT (base64url header.payload.signature)';

/** The same body shape as every other error: `{ error: { code, message }, request_id }`. */
export interface AuthErrorBody {
  error: { code: AuthErrorCode; message: string };
  request_id: string | null;
}

export interface AuthFailure {
  code: AuthErrorCode;
  /** What the caller should change. Never contains the token. */
  message: string;
}

/** Thrown by the JWT strategy for the checks it adds on top of jsonwebtoken (alg, exp, sub). */
export class TokenRejectedError extends Error {
  constructor(
    readonly code: Exclude<AuthErrorCode, 'UNAUTHENTICATED' | 'AUTH_UNAVAILABLE'>,
    message: string,
  ) {
    super(message);
    this.name = 'TokenRejectedError';
  }
}

export function authErrorBody(failure: AuthFailure, requestId: string | undefined): AuthErrorBody {
  return { error: { code: failure.code, message: failure.message }, request_id: requestId ?? null };
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

/** 503 when the issuer's JWKS cannot be fetched (down, rate-limited, or without signing keys). */
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

const JWKS_ERROR_NAMES = new Set(['JwksError', 'JwksRateLimitError', 'ArgumentError']);

/**
 * Maps what passport-jwt, jsonwebtoken and jwks-rsa report into a code and a message that says what
 * to change. jsonwebtoken's messages are matched on their stable prefixes (jsonwebtoken 9).
 */
export function describeAuthFailure(reason: unknown, auth: AuthConfig): AuthFailure {
  const invalid = (message: string): AuthFailure => ({ code: 'TOKEN_INVALID', message });
  const getNewToken = `get a new token from ${auth.issuer}`;

  if (reason instanceof TokenRejectedError) {
    return { code: reason.code, message: reason.message };
  }
  if (!isErrorLike(reason)) {
    return invalid(`The token could not be verified; ${getNewToken}`);
  }
  const error = reason;

  // passport-jwt's own failure when jwtFromRequest finds nothing.
  if (error.message === 'No auth token') {
    return { code: 'UNAUTHENTICATED', message: MISSING_TOKEN_MESSAGE };
  }
  if (error.name === 'TokenExpiredError') {
    const at = isDate(error.expiredAt) ? error.expiredAt.toISOString() : 'an earlier time';
    return { code: 'TOKEN_EXPIRED', message: `The token expired at ${at}; ${getNewToken}` };
  }
  if (error.name === 'NotBeforeError') {
    const at = isDate(error.date) ? error.date.toISOString() : 'a later time';
    return invalid(`The token is not valid before ${at} (nbf); check the clocks or wait until then`);
  }
  // jwks-rsa: the token names a key the issuer does not publish (or names none among several keys).
  if (error.name === 'SigningKeyNotFoundError') {
    return invalid(`The token's signing key (kid) is not among the keys published at ${auth.jwksUrl}; ${getNewToken}`);
  }
  if (JWKS_ERROR_NAMES.has(error.name) || error.isEndpointUnavailable) {
    return {
      code: 'AUTH_UNAVAILABLE',
      message: "The issuer's signing keys (JWKS) cannot be fetched right now; retry in a minute",
    };
  }

  const message = error.message;
  if (message.startsWith('jwt audience invalid')) {
    return invalid(`The token's audience (aud) must be ${auth.audience}`);
  }
  if (message.startsWith('jwt issuer invalid')) {
    return invalid(`The token's issuer (iss) must be ${auth.issuer}`);
  }
  if (message === 'invalid signature') {
    return invalid(`The token's signature does not match the issuer's key; ${getNewToken}`);
  }
  if (message === 'invalid algorithm') {
    return invalid(`The token's alg is not accepted; ${getNewToken}`);
  }
  if (message === 'invalid exp value') {
    return invalid('The token\'s exp claim must be a number (seconds since the epoch)');
  }
  if (message === 'invalid nbf value') {
    return invalid('The token\'s nbf claim must be a number (seconds since the epoch)');
  }
  if (
    message === 'jwt malformed' ||
    message === 'invalid token' ||
    message === 'jwt signature is required' ||
    // jwks-rsa hands over no key when it cannot decode the token.
    message === 'secret or public key must be provided' ||
    error.name === 'SyntaxError'
  ) {
    return invalid(MALFORMED_TOKEN_MESSAGE);
  }
  return invalid(`The token could not be verified; ${getNewToken}`);
}

interface ErrorLike {
  name: string;
  message: string;
  expiredAt?: unknown;
  date?: unknown;
  isEndpointUnavailable?: boolean;
}

// Duck-typed, not instanceof: errors from node:http (a refused JWKS connection) come from another
// realm under Jest, and nothing here depends on the prototype.
function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorLike).name === 'string' &&
    typeof (value as ErrorLike).message === 'string'
  );
}

function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}
