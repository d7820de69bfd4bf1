import type { TrustedIssuer } from '../policy/policy.types.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const trusted = { name: 'corp', issuer: 'https://idp.example', clockToleranceSeconds: 30 } as TrustedIssuer;
const verified = (subject: string) => ({ trusted, identity: { issuer: trusted.issuer, subject, name: subject, issuerName: 'corp' } }) as never;
const T0 = 1_800_000_000_000;
const exp = (secondsFromT0: number) => T0 / 1000 + secondsFromT0;

describe('VerifiedTokenCache', () => {
  it('answers for a remembered token only, and never for another one', () => {
    const cache = new VerifiedTokenCache();
    cache.remember('token-a', exp(600), verified('a'), T0);

    expect(cache.get('token-a', T0 + 1_000)).toMatchObject({ identity: { subject: 'a' } });
    expect(cache.get('token-b', T0 + 1_000)).toBeUndefined();
    expect(cache.get('token-a ', T0 + 1_000)).toBeUndefined();
  });

  it('stops answering when the token expires (exp plus the clock tolerance), as the full check would', () => {
    const cache = new VerifiedTokenCache();
    cache.remember('short', exp(10), verified('a'), T0);

    expect(cache.get('short', T0 + 39_999)).toBeDefined();
    expect(cache.get('short', T0 + 40_000)).toBeUndefined();
    // Once expired, gone for good.
    expect(cache.get('short', T0 + 1_000)).toBeUndefined();
  });

  it('stops answering after its age limit, however long the token lives, so a withdrawn key stops working', () => {
    const cache = new VerifiedTokenCache(10, 60_000);
    cache.remember('long', exp(3_600), verified('a'), T0);

    expect(cache.get('long', T0 + 59_999)).toBeDefined();
    expect(cache.get('long', T0 + 60_000)).toBeUndefined();
  });

  it('does not keep a token already past its expiry', () => {
    const cache = new VerifiedTokenCache();
    cache.remember('late', exp(-31), verified('a'), T0);

    expect(cache.size).toBe(0);
  });

  it('holds at most its limit, dropping the oldest first', () => {
    const cache = new VerifiedTokenCache(3);
    for (const name of ['t1', 't2', 't3', 't4']) cache.remember(name, exp(600), verified(name), T0);

    expect(cache.size).toBe(3);
    expect(cache.get('t1', T0)).toBeUndefined();
    expect(cache.get('t4', T0)).toMatchObject({ identity: { subject: 't4' } });
  });

  it('hands every request the same frozen identity, claims included, so none can change it for the next', () => {
    const cache = new VerifiedTokenCache();
    const identity = { issuer: trusted.issuer, subject: 'a', name: 'a', claims: { groups: ['dev'], nested: { team: 'x' } } };
    cache.remember('token-a', exp(600), { trusted, identity }, T0);

    const shared = cache.get('token-a', T0)?.identity as typeof identity;
    expect(() => (shared.claims.groups as string[]).push('admin')).toThrow(TypeError);
    expect(() => Object.assign(shared.claims.nested, { team: 'y' })).toThrow(TypeError);
    expect(cache.get('token-a', T0)?.identity.claims).toEqual({ groups: ['dev'], nested: { team: 'x' } });
  });

  it('forgets everything when cleared', () => {
    const cache = new VerifiedTokenCache();
    cache.remember('token-a', exp(600), verified('a'), T0);
    cache.clear();

    expect(cache.get('token-a', T0)).toBeUndefined();
  });
});
