import { EXAMPLE_AUTH_CONFIG } from '../../test/support/oidc.js';
import { describeAuthFailure, TokenRejectedError, wwwAuthenticateHeader } from './auth-errors.js';

const auth = EXAMPLE_AUTH_CONFIG;

/** Errors shaped like the ones jsonwebtoken and jwks-rsa produce (matched by name and message). */
function namedError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name }, extra);
}

describe('describeAuthFailure', () => {
  it('reports an expired token with its expiry time', () => {
    const expired = namedError('TokenExpiredError', 'jwt expired', { expiredAt: new Date('2030-01-02T03:04:05Z') });

    expect(describeAuthFailure(expired, auth)).toEqual({
      code: 'TOKEN_EXPIRED',
      message: 'The token expired at 2030-01-02T03:04:05.000Z; get a new token from https://issuer.example',
    });
  });

  it('names the expected audience and issuer instead of repeating jsonwebtoken', () => {
    const audience = describeAuthFailure(
      namedError('JsonWebTokenError', 'jwt audience invalid. expected: runner-token-service'),
      auth,
    );
    const issuer = describeAuthFailure(namedError('JsonWebTokenError', 'jwt issuer invalid. expected: x'), auth);

    expect(audience).toEqual({ code: 'TOKEN_INVALID', message: "The token's audience (aud) must be runner-token-service" });
    expect(issuer).toEqual({ code: 'TOKEN_INVALID', message: "The token's issuer (iss) must be https://issuer.example" });
  });

  it('passes the strategy’s own rejections through', () => {
    expect(describeAuthFailure(new TokenRejectedError('TOKEN_INVALID', 'The token has no sub claim'), auth)).toEqual({
      code: 'TOKEN_INVALID',
      message: 'The token has no sub claim',
    });
  });

  it.each([
    namedError('JwksError', 'The JWKS endpoint did not contain any signing keys'),
    namedError('JwksRateLimitError', 'Too many requests to the JWKS endpoint'),
    namedError('Error', 'connect ECONNREFUSED 127.0.0.1:1', { isEndpointUnavailable: true }),
  ])('answers AUTH_UNAVAILABLE, not a token error, when the JWKS cannot be had ($name)', (error) => {
    expect(describeAuthFailure(error, auth).code).toBe('AUTH_UNAVAILABLE');
  });

  it('treats passport-jwt’s "No auth token" as a missing token', () => {
    expect(describeAuthFailure(new Error('No auth token'), auth).code).toBe('UNAUTHENTICATED');
  });

  it('falls back to a generic TOKEN_INVALID for anything unrecognised', () => {
    expect(describeAuthFailure(undefined, auth)).toEqual({
      code: 'TOKEN_INVALID',
      message: 'The token could not be verified; get a new token from https://issuer.example',
    });
  });
});

describe('wwwAuthenticateHeader', () => {
  it('sends a bare challenge when no token was sent (RFC 6750 section 3.1)', () => {
    expect(wwwAuthenticateHeader({ code: 'UNAUTHENTICATED', message: 'Send a token' })).toBe(
      'Bearer realm="runner-token-service"',
    );
  });

  it('keeps error_description to the characters RFC 6750 allows', () => {
    const header = wwwAuthenticateHeader({ code: 'TOKEN_INVALID', message: 'aud must be "x\\y" – é' });

    expect(header).toBe(
      `Bearer realm="runner-token-service", error="invalid_token", error_description="aud must be 'x'y' ? ?"`,
    );
  });
});
