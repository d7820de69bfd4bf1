import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { KeysUnavailableError, TokenRejectedError } from './auth-errors.js';
import { IssuerKeySet } from './issuer-key-set.js';

const COOLDOWN_MS = 30_000;
const STALE_MS = 600_000;

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

/** A JWKS endpoint in memory: what it answers is up to the test, and it counts the fetches. */
class FakeJwks {
  fetches = 0;
  keys: JWK[] = [];
  failWith: Error | null = null;
  /** When set, fetches wait until release() is called. */
  private gate: { promise: Promise<void>; open: () => void } | null = null;

  readonly fetchDocument = async (): Promise<unknown> => {
    this.fetches += 1;
    if (this.gate) await this.gate.promise;
    if (this.failWith) throw this.failWith;
    return { keys: this.keys };
  };

  hold(): void {
    let open = () => {};
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  release(): void {
    this.gate?.open();
    this.gate = null;
  }
}

describe('IssuerKeySet', () => {
  let jwks: FakeJwks;
  let now: number;
  let refreshErrors: unknown[];
  let keySet: IssuerKeySet;

  beforeEach(async () => {
    jwks = new FakeJwks();
    jwks.keys = [await publicJwk('key-1')];
    now = 1_000_000;
    refreshErrors = [];
    keySet = new IssuerKeySet({
      name: 'test',
      source: 'https://issuer.example/jwks',
      fetchDocument: jwks.fetchDocument,
      cooldownMs: COOLDOWN_MS,
      staleAfterMs: STALE_MS,
      onRefreshError: (error) => refreshErrors.push(error),
      now: () => now,
    });
  });

  it('fetches once for many lookups of a known key', async () => {
    for (let i = 0; i < 5; i += 1) await keySet.keyFor('ES256', 'key-1');

    expect(jwks.fetches).toBe(1);
  });

  it('shares one fetch among concurrent first lookups (single-flight)', async () => {
    jwks.hold();
    const lookups = Array.from({ length: 20 }, () => keySet.keyFor('ES256', 'key-1'));
    jwks.release();

    await expect(Promise.all(lookups)).resolves.toHaveLength(20);
    expect(jwks.fetches).toBe(1);
  });

  it('refuses unknown kids without fetching again while the cooldown runs', async () => {
    await keySet.keyFor('ES256', 'key-1');

    for (let i = 0; i < 100; i += 1) {
      await expect(keySet.keyFor('ES256', `forged-${i}`)).rejects.toMatchObject({ reason: 'key_unknown' });
    }
    expect(jwks.fetches).toBe(1);
  });

  it('finds a rotated key once the cooldown has passed, with one more fetch', async () => {
    await keySet.keyFor('ES256', 'key-1');
    jwks.keys = [...jwks.keys, await publicJwk('key-2')];
    await expect(keySet.keyFor('ES256', 'key-2')).rejects.toBeInstanceOf(TokenRejectedError);

    now += COOLDOWN_MS;

    await expect(keySet.keyFor('ES256', 'key-2')).resolves.toBeDefined();
    expect(jwks.fetches).toBe(2);
  });

  it('keeps the last good set when a refetch fails', async () => {
    await keySet.keyFor('ES256', 'key-1');
    jwks.failWith = new Error('connect ECONNREFUSED');
    now += COOLDOWN_MS;

    await expect(keySet.keyFor('ES256', 'unknown')).rejects.toMatchObject({ reason: 'key_unknown' });
    await expect(keySet.keyFor('ES256', 'key-1')).resolves.toBeDefined();
    expect(jwks.fetches).toBe(2);
  });

  it('keeps the last good set when the refetched document has no keys or is not a JWKS', async () => {
    await keySet.keyFor('ES256', 'key-1');
    jwks.keys = [];
    now += COOLDOWN_MS;
    await expect(keySet.keyFor('ES256', 'unknown')).rejects.toMatchObject({ reason: 'key_unknown' });
    jwks.keys = [{ kty: 'nonsense' } as JWK];
    now += COOLDOWN_MS;
    await expect(keySet.keyFor('ES256', 'unknown')).rejects.toMatchObject({ reason: 'key_unknown' });

    await expect(keySet.keyFor('ES256', 'key-1')).resolves.toBeDefined();
    expect(jwks.fetches).toBe(3);
  });

  it('refreshes a stale set in the background and keeps it when the refresh fails', async () => {
    await keySet.keyFor('ES256', 'key-1');
    jwks.failWith = new Error('HTTP 500');
    now += STALE_MS;

    await expect(keySet.keyFor('ES256', 'key-1')).resolves.toBeDefined();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(keySet.keyFor('ES256', 'key-1')).resolves.toBeDefined();

    expect(jwks.fetches).toBe(2);
    expect(refreshErrors).toEqual([jwks.failWith]);
  });

  it('replaces a stale set by a good refresh', async () => {
    await keySet.keyFor('ES256', 'key-1');
    jwks.keys = [await publicJwk('key-2')];
    now += STALE_MS;

    await keySet.keyFor('ES256', 'key-1');
    await new Promise((resolve) => setImmediate(resolve));

    await expect(keySet.keyFor('ES256', 'key-2')).resolves.toBeDefined();
    expect(jwks.fetches).toBe(2);
  });

  it('answers KeysUnavailableError without a good set, and does not retry before the cooldown', async () => {
    jwks.failWith = new Error('connect ECONNREFUSED');

    await expect(keySet.keyFor('ES256', 'key-1')).rejects.toBeInstanceOf(KeysUnavailableError);
    await expect(keySet.keyFor('ES256', 'key-1')).rejects.toThrow(KeysUnavailableError);
    expect(jwks.fetches).toBe(1);

    jwks.failWith = null;
    now += COOLDOWN_MS;
    await expect(keySet.keyFor('ES256', 'key-1')).resolves.toBeDefined();
  });

  it('names the cause of the missing keys in the detail for the log', async () => {
    jwks.failWith = new Error('GET https://issuer.example/jwks: answered HTTP 500');

    const error = await keySet.keyFor('ES256', 'key-1').catch((caught: unknown) => caught);

    expect((error as KeysUnavailableError).detail).toContain('answered HTTP 500');
  });

  it('uses the only key for a token without kid, but refuses one when there are several keys', async () => {
    await expect(keySet.keyFor('ES256', undefined)).resolves.toBeDefined();

    jwks.keys = [...jwks.keys, await publicJwk('key-2')];
    now += STALE_MS;
    await keySet.keyFor('ES256', 'key-1');
    await new Promise((resolve) => setImmediate(resolve));

    await expect(keySet.keyFor('ES256', undefined)).rejects.toMatchObject({ reason: 'kid_invalid' });
  });

  it('refuses a known kid for another algorithm as an unknown key', async () => {
    await expect(keySet.keyFor('RS256', 'key-1')).rejects.toMatchObject({ reason: 'key_unknown' });
  });
});
