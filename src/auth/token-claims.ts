/**
 * What jose leaves to us after the signature and the standard claims are checked, and how its
 * refusals read to the caller. Messages never name the configured issuer, audience or JWKS URL;
 * those go into the detail, for the log.
 */
import type { JWTPayload } from 'jose';
import type { TrustedIssuer } from '../policy/policy.types.js';
import type { Identity } from './actor.js';
import { MALFORMED_TOKEN_MESSAGE, TokenRejectedError } from './auth-errors.js';

const GET_NEW_TOKEN = 'get a new token from its issuer';

/** jose's error classes, recognised by their stable `code` (not instanceof: Jest loads modules per test file). */
interface JoseFailure {
  code?: unknown;
  claim?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** Turns what jose's jwtVerify threw into a TokenRejectedError; anything else is a bug and is rethrown. */
export function rejectionFromJose(error: unknown, payload: Record<string, unknown>, trusted: TrustedIssuer): TokenRejectedError {
  const failure = (typeof error === 'object' && error !== null ? error : {}) as JoseFailure;
  const detail = `issuer ${trusted.name}: ${String(failure.message ?? error)}`;
  const reject = (reason: TokenRejectedError['reason'], message: string, extra = '') =>
    new TokenRejectedError(reason, message, extra ? `${detail}; ${extra}` : detail);
  switch (failure.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return reject('signature', `The token's signature does not match its issuer's key; ${GET_NEW_TOKEN}`);
    case 'ERR_JWT_EXPIRED':
      return reject('expired', `The token expired at ${isoTime(payload.exp, 'an earlier time')}; ${GET_NEW_TOKEN}`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return reject('algorithm', algorithmMessage(trusted));
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return reject('malformed', MALFORMED_TOKEN_MESSAGE);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return rejectClaim(failure, payload, trusted, reject);
    default:
      if (typeof failure.code === 'string' && failure.code.startsWith('ERR_J')) {
        return reject('signature', `The token could not be verified with its issuer's key; ${GET_NEW_TOKEN}`);
      }
      throw error;
  }
}

function rejectClaim(
  failure: JoseFailure,
  payload: Record<string, unknown>,
  trusted: TrustedIssuer,
  reject: (reason: TokenRejectedError['reason'], message: string, extra?: string) => TokenRejectedError,
): TokenRejectedError {
  const claim = String(failure.claim);
  if (failure.reason === 'missing') {
    return reject('claims', missingClaimMessage(claim));
  }
  if (failure.reason === 'invalid') {
    return reject('claims', `The token's ${claim} claim must be a number (seconds since the epoch)`);
  }
  if (claim === 'aud') {
    return reject(
      'audience',
      "The token's audience (aud) is not one this service accepts from its issuer; ask the issuer for a token for this service",
      `aud ${JSON.stringify(payload.aud)}, accepted: ${trusted.audiences.join(', ')}`,
    );
  }
  if (claim === 'iss') {
    return reject('issuer_unknown', ISSUER_UNKNOWN_MESSAGE);
  }
  if (claim === 'nbf') {
    return reject(
      'not_yet_valid',
      `The token is not valid before ${isoTime(payload.nbf, 'a later time')} (nbf); check the clocks or wait until then`,
    );
  }
  return reject('claims', `The token's ${claim} claim is not accepted; ${GET_NEW_TOKEN}`);
}

export const ISSUER_UNKNOWN_MESSAGE =
  "The token's issuer (iss) is not one this service trusts; use a token from a trusted issuer";

export function missingClaimMessage(claim: string): string {
  if (claim === 'exp') return 'The token has no exp claim; the issuer must set an expiry';
  if (claim === 'sub') return 'The token has no sub claim; ownership is bound to it';
  if (claim === 'iss') return 'The token has no iss claim; the service cannot tell who issued it';
  if (claim === 'aud') return 'The token has no aud claim; ask the issuer for a token for this service';
  return `The token has no ${claim} claim`;
}

export function algorithmMessage(trusted: TrustedIssuer): string {
  return `The token's alg must be one of ${trusted.algorithms.join(', ')}`;
}

/**
 * What jose does not check: `sub` a non-empty string, `iat` not in the future (beyond the clock
 * tolerance), and a lifetime (`exp − iat`, or `exp − now` without `iat`) within the issuer's maximum.
 */
export function checkRemainingClaims(payload: JWTPayload, trusted: TrustedIssuer, nowSeconds: number): void {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new TokenRejectedError('claims', missingClaimMessage('sub'), `issuer ${trusted.name}: sub is not a non-empty string`);
  }
  const tolerance = trusted.clockToleranceSeconds;
  const { iat, exp } = payload as { iat?: number; exp: number };
  if (iat !== undefined && iat > nowSeconds + tolerance) {
    throw new TokenRejectedError(
      'issued_in_future',
      `The token was issued in the future (iat ${isoTime(iat, '?')}); check the issuer's clock and get a new token`,
      `issuer ${trusted.name}: iat is ${iat - nowSeconds} s ahead, tolerance ${tolerance} s`,
    );
  }
  // Without iat the clocks' skew counts towards exp − now, so the tolerance is allowed for.
  const lifetime = iat !== undefined ? exp - iat : exp - nowSeconds - tolerance;
  if (lifetime > trusted.maxTokenLifetimeSeconds) {
    throw new TokenRejectedError(
      'lifetime',
      `The token is valid for ${Math.round(lifetime)} seconds, longer than its issuer's tokens may be ` +
        `(${trusted.maxTokenLifetimeSeconds}); ask for a shorter-lived token`,
      `issuer ${trusted.name}: ${iat !== undefined ? 'exp − iat' : 'exp − now'} is ${lifetime} s`,
    );
  }
}

/**
 * Who the verified token says the caller is. The name is the issuer's display claim when it is a
 * non-empty string, else `sub`; an `email` display claim counts only unless the token says
 * `email_verified: false` (an unverified address must not name anyone).
 */
export function identityOf(payload: JWTPayload & { sub: string }, trusted: TrustedIssuer): Identity {
  const shown = payload[trusted.displayClaim];
  const unverifiedEmail =
    trusted.displayClaim === 'email' && (payload.email_verified === false || payload.email_verified === 'false');
  return {
    issuer: trusted.issuer,
    subject: payload.sub,
    name: typeof shown === 'string' && shown !== '' && !unverifiedEmail ? shown : payload.sub,
    issuerName: trusted.name,
    claims: Object.freeze({ ...payload }),
  };
}

function isoTime(seconds: unknown, fallback: string): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return fallback;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString();
}
