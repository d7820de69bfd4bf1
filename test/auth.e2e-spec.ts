import request from 'supertest';
import { PROBE_PATH, PUBLIC_PROBE_PATH, startAuthApp, type AuthApp } from './support/auth-app.js';
import { hmacToken, TestOidcProvider, unsignedToken } from './support/oidc.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * A local issuer and an app trusting it (through the OIDC_* shorthand's one issuer), for one
 * describe block. Tests read them through the returned getters (they exist only once beforeAll ran).
 */
function withOidcApp(): { oidc: () => TestOidcProvider; app: () => AuthApp } {
  let oidc: TestOidcProvider;
  let app: AuthApp;
  beforeAll(async () => {
    oidc = await TestOidcProvider.start();
    app = await startAuthApp({ issuers: [oidc.trustedIssuer({ name: 'default' })] });
  });
  afterAll(async () => {
    await app?.close();
    await oidc?.stop();
  });
  return { oidc: () => oidc, app: () => app };
}

describe('OIDC authentication (on)', () => {
  const { oidc, app } = withOidcApp();

  it('answers 200 with the caller named by the email claim for a valid token', async () => {
    const token = await oidc().token({ sub: 'user-42', email: 'ada@example.test' });

    const response = await request(app().server)
      .get(PROBE_PATH)
      .set(bearer(token))
      .set('x-request-id', 'req-valid-1')
      .expect(200);

    expect(response.body).toEqual({
      kind: 'user',
      issuer: oidc().issuer,
      subject: 'user-42',
      name: 'ada@example.test',
      issuer_name: 'default',
      request_id: 'req-valid-1',
      source_ip: expect.any(String),
    });
  });

  it('names the caller by sub when the token has no email claim', async () => {
    const token = await oidc().token({ sub: 'svc-build', email: undefined });

    const response = await request(app().server).get(PROBE_PATH).set(bearer(token)).expect(200);

    expect(response.body).toMatchObject({ subject: 'svc-build', name: 'svc-build' });
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    const token = await oidc().token({}, { expiresIn: -10 });

    await request(app().server).get(PROBE_PATH).set(bearer(token)).expect(200);
  });

  it('answers 401 UNAUTHENTICATED with a bare Bearer challenge when there is no token', async () => {
    const response = await request(app().server)
      .get(PROBE_PATH)
      .set('x-request-id', 'req-no-token')
      .expect(401);

    expect(response.headers['www-authenticate']).toBe('Bearer realm="runner-token-service"');
    expect(response.body).toEqual({
      error: {
        code: 'UNAUTHENTICATED',
        message: 'Send an OIDC token in the Authorization header: Bearer <token>',
        details: { reason: 'missing' },
      },
      request_id: 'req-no-token',
    });
  });

  it('answers 401 UNAUTHENTICATED when the Authorization header is not a Bearer one', async () => {
    const response = await request(app().server)
      .get(PROBE_PATH)
      .set('Authorization', 'Basic dXNlcjpwYXNz')
      .expect(401);

    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 TOKEN_EXPIRED with the expiry time for a token expired beyond the tolerance', async () => {
    const token = await oidc().token({}, { expiresIn: -120 });

    const response = await request(app().server).get(PROBE_PATH).set(bearer(token)).expect(401);

    expect(response.body.error).toMatchObject({ code: 'TOKEN_EXPIRED', details: { reason: 'expired' } });
    expect(response.body.error.message).toMatch(/^The token expired at \d{4}-\d\d-\d\dT.*; get a new token from its issuer$/);
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer realm="runner-token-service", error="invalid_token", error_description="The token expired at /,
    );
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(response.headers['www-authenticate']).not.toContain(token);
  });

  // None of the messages may name the configured issuer, audience or JWKS URL.
  const rejectedTokens: Array<[string, () => Promise<string>, string, RegExp]> = [
    [
      'a wrong audience',
      () => oidc().token({}, { audience: 'some-other-service' }),
      'audience',
      /^The token's audience \(aud\) is not one this service accepts from its issuer/,
    ],
    [
      'an issuer that is not trusted',
      () => oidc().token({}, { issuer: 'https://evil.example' }),
      'issuer_unknown',
      /^The token's issuer \(iss\) is not one this service trusts/,
    ],
    ['alg none', () => oidc().token({}, { alg: 'none' }), 'algorithm', /^The token's alg must be one of RS256, /],
    [
      'HS256 signed with the public key (key confusion)',
      () => oidc().token({}, { alg: 'HS256' }),
      'algorithm',
      /^The token's alg must be one of RS256, /,
    ],
    [
      'a key that the JWKS does not publish',
      () => oidc().token({}, { signWith: 'unknown-key' }),
      'key_unknown',
      /^The token's signing key \(kid\) is not among the keys its issuer publishes/,
    ],
    [
      'a kid that the JWKS does not publish',
      () => oidc().token({}, { kid: 'rotated-away' }),
      'key_unknown',
      /^The token's signing key \(kid\) is not among the keys its issuer publishes/,
    ],
    [
      'a kid that is not a short token of letters, digits and . _ -',
      () => oidc().token({}, { kid: '../../etc/passwd' }),
      'kid_invalid',
      /^The token's kid header must be at most 128 characters/,
    ],
    [
      "the published kid but another key's signature",
      () => oidc().token({}, { signWith: 'unknown-key', kid: oidc().kid }),
      'signature',
      /^The token's signature does not match its issuer's key/,
    ],
    ['no exp claim', () => oidc().token({}, { noExp: true }), 'claims', /^The token has no exp claim/],
    ['no sub claim', () => oidc().token({ sub: undefined }), 'claims', /^The token has no sub claim/],
    ['an empty sub claim', () => oidc().token({ sub: '' }), 'claims', /^The token has no sub claim/],
    [
      'a non-numeric exp claim',
      () => oidc().token({ exp: 'tomorrow' }),
      'claims',
      /^The token's exp claim must be a number/,
    ],
    [
      'an nbf in the future',
      () => oidc().token({ nbf: Math.floor(Date.now() / 1000) + 120 }),
      'not_yet_valid',
      /^The token is not valid before \d{4}-.* \(nbf\)/,
    ],
    ['not a JWT at all', async () => 'not-a-jwt', 'malformed', /^The bearer token is not a well-formed signed JWT/],
  ];

  it.each(rejectedTokens)('answers 401 TOKEN_INVALID for a token with %s', async (_case, makeToken, reason, message) => {
    const token = await makeToken();

    const response = await request(app().server)
      .get(PROBE_PATH)
      .set(bearer(token))
      .set('x-request-id', 'req-bad-token')
      .expect(401);

    expect(response.body).toEqual({
      error: { code: 'TOKEN_INVALID', message: expect.stringMatching(message), details: { reason } },
      request_id: 'req-bad-token',
    });
    const answer = `${JSON.stringify(response.body)} ${response.headers['www-authenticate']}`;
    for (const configured of [oidc().issuer, oidc().jwksUrl, oidc().url]) expect(answer).not.toContain(configured);
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer realm="runner-token-service", error="invalid_token", error_description="[^"]+"$/,
    );
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(response.headers['www-authenticate']).not.toContain(token);
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await oidc().token({ sub: 'user-1' })).split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ iss: oidc().issuer, aud: oidc().audience, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 }),
    ).toString('base64url');

    const response = await request(app().server)
      .get(PROBE_PATH)
      .set(bearer(`${header}.${forgedPayload}.${signature}`))
      .expect(401);

    expect(response.body.error).toEqual({
      code: 'TOKEN_INVALID',
      message: expect.stringMatching(/^The token's signature does not match/),
      details: { reason: 'signature' },
    });
  });

  it('rejects unsigned and HMAC tokens made without the provider', async () => {
    const claims = { iss: oidc().issuer, aud: oidc().audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 300 };
    const server = app().server;

    for (const token of [unsignedToken(claims), await hmacToken(claims, 'a-shared-secret')]) {
      const response = await request(server).get(PROBE_PATH).set(bearer(token)).expect(401);
      expect(response.body.error.code).toBe('TOKEN_INVALID');
    }
  });

  it('serves @Public() routes without a token, and ignores a bad one there', async () => {
    await request(app().server).get(PUBLIC_PROBE_PATH).expect(200, { ok: true });
    await request(app().server).get(PUBLIC_PROBE_PATH).set(bearer('not-a-jwt')).expect(200, { ok: true });
  });
});

describe('OIDC authentication: JWKS caching', () => {
  const { oidc, app } = withOidcApp();

  it('fetches the JWKS once for many requests', async () => {
    const server = app().server;
    for (let i = 0; i < 5; i += 1) {
      await request(server).get(PROBE_PATH).set(bearer(await oidc().token())).expect(200);
    }
    await Promise.all(
      Array.from({ length: 5 }, async () =>
        request(server).get(PROBE_PATH).set(bearer(await oidc().token())).expect(200),
      ),
    );

    expect(oidc().jwksRequests).toBe(1);
  });
});

describe('OIDC authentication: issuer unreachable', () => {
  const { oidc, app } = withOidcApp();

  it('answers 503 AUTH_UNAVAILABLE, not 401, when the JWKS cannot be fetched', async () => {
    const token = await oidc().token();
    await oidc().stop();

    const response = await request(app().server).get(PROBE_PATH).set(bearer(token)).expect(503);

    expect(response.body.error).toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { reason: 'keys_unavailable' } });
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(JSON.stringify(response.body)).not.toContain(oidc().jwksUrl);
    expect(app().logger.messages('warn')).toContainEqual(expect.stringContaining(oidc().jwksUrl));
  });
});

describe('OIDC authentication off (ENABLE_OIDC_AUTH=false)', () => {
  let app: AuthApp;

  beforeAll(async () => {
    app = await startAuthApp({ auth: { enabled: false } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('acts as local-user for a request without a token', async () => {
    const response = await request(app.server).get(PROBE_PATH).expect(200);

    expect(response.body).toMatchObject({ kind: 'user', issuer: 'local', subject: 'local-user', name: 'local-user' });
  });

  it('does not look at a token that is sent anyway', async () => {
    const response = await request(app.server).get(PROBE_PATH).set(bearer('not-a-jwt')).expect(200);

    expect(response.body.subject).toBe('local-user');
  });

  it('warns once at start that every request acts as local-user', () => {
    const warnings = app.logger.messages('warn').filter((message) => message.includes('OIDC authentication is OFF'));

    expect(warnings).toEqual([expect.stringContaining('Never run this in production')]);
  });
});
