import { authErrorBody, TokenRejectedError, wwwAuthenticateHeader } from './auth-errors.js';

describe('TokenRejectedError', () => {
  it('answers TOKEN_EXPIRED for an expired token and TOKEN_INVALID for every other reason', () => {
    expect(new TokenRejectedError('expired', 'The token expired').failure).toEqual({
      code: 'TOKEN_EXPIRED',
      reason: 'expired',
      message: 'The token expired',
    });
    expect(new TokenRejectedError('audience', 'wrong aud').code).toBe('TOKEN_INVALID');
    expect(new TokenRejectedError('key_unknown', 'no such key').code).toBe('TOKEN_INVALID');
  });

  it('keeps its detail out of the failure the caller sees', () => {
    const error = new TokenRejectedError('audience', 'The audience is not accepted', 'accepted: secret-audience');

    expect(JSON.stringify(authErrorBody(error.failure, 'req-1'))).not.toContain('secret-audience');
  });
});

describe('authErrorBody', () => {
  it('puts the reason in error.details for machines', () => {
    expect(authErrorBody({ code: 'TOKEN_INVALID', reason: 'signature', message: 'Bad signature' }, undefined)).toEqual({
      error: { code: 'TOKEN_INVALID', message: 'Bad signature', details: { reason: 'signature' } },
      request_id: null,
    });
  });
});

describe('wwwAuthenticateHeader', () => {
  it('sends a bare challenge when no token was sent (RFC 6750 section 3.1)', () => {
    expect(wwwAuthenticateHeader({ code: 'UNAUTHENTICATED', reason: 'missing', message: 'Send a token' })).toBe(
      'Bearer realm="runner-token-service"',
    );
  });

  it('keeps error_description to the characters RFC 6750 allows', () => {
    const header = wwwAuthenticateHeader({ code: 'TOKEN_INVALID', reason: 'audience', message: 'aud must be "x\\y" – é' });

    expect(header).toBe(
      `Bearer realm="runner-token-service", error="invalid_token", error_description="aud must be 'x'y' ? ?"`,
    );
  });
});
