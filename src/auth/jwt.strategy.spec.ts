import type { AppConfig, AuthConfig } from '../config/app-config.js';
import { TokenRejectedError } from './auth-errors.js';
import { JwtStrategy } from './jwt.strategy.js';
import { EXAMPLE_AUTH_CONFIG } from '../../test/support/oidc.js';

const auth = EXAMPLE_AUTH_CONFIG;
const strategyFor = (overrides: Partial<AuthConfig> = {}) =>
  new JwtStrategy({ auth: { ...auth, ...overrides } } as AppConfig);
const exp = Math.floor(Date.now() / 1000) + 300;

describe('JwtStrategy', () => {
  it('refuses to start with an empty issuer or audience, which jsonwebtoken would not check', () => {
    expect(() => strategyFor({ issuer: '' })).toThrow('auth.issuer is empty');
    expect(() => strategyFor({ audience: '', jwksUrl: '' })).toThrow('auth.audience, auth.jwksUrl is empty');
  });

  it('refuses a clock tolerance above 60 seconds', () => {
    expect(() => strategyFor({ clockToleranceSeconds: 300 })).toThrow('from 0 to 60');
  });

  it('starts without a JWKS URL when OIDC auth is off', () => {
    expect(() => strategyFor({ enabled: false, issuer: '', audience: '', jwksUrl: '' })).not.toThrow();
  });

  it('returns issuer, subject and the user claim as name', () => {
    const identity = strategyFor().validate({ iss: auth.issuer, sub: 'u-1', email: 'ada@example.test', exp });

    expect(identity).toEqual({ issuer: auth.issuer, subject: 'u-1', name: 'ada@example.test' });
  });

  it('names the caller by sub when the user claim is missing or not a string', () => {
    const strategy = strategyFor({ userClaim: 'preferred_username' });

    expect(strategy.validate({ iss: auth.issuer, sub: 'u-1', exp }).name).toBe('u-1');
    expect(strategy.validate({ iss: auth.issuer, sub: 'u-1', exp, preferred_username: 7 }).name).toBe('u-1');
  });

  it('rejects a token without exp or without sub', () => {
    const strategy = strategyFor();

    expect(() => strategy.validate({ iss: auth.issuer, sub: 'u-1' })).toThrow(TokenRejectedError);
    expect(() => strategy.validate({ iss: auth.issuer, exp })).toThrow('no sub claim');
  });
});
