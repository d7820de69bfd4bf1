import { Controller, type DynamicModule, Get, type INestApplication, type LoggerService, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { Actor } from '../src/auth/actor.js';
import { CurrentActor } from '../src/auth/current-actor.decorator.js';
import { Public } from '../src/auth/public.decorator.js';
import { APP_CONFIG, type AppConfig, type AuthConfig } from '../src/config/app-config.js';
import { AuthModule } from '../src/auth/auth.module.js';
import { hmacToken, TestOidcProvider, unsignedToken } from './support/oidc.js';


@Controller('probe')
class ProbeController {
  @Get('me')
  me(@CurrentActor() actor: Actor) {
    const { kind, issuer, subject, name, requestId, sourceIp } = actor;
    return { kind, issuer, subject, name, request_id: requestId, source_ip: sourceIp };
  }

  @Public()
  @Get('open')
  open() {
    return { ok: true };
  }
}

@Module({})
class TestConfigModule {
  static forAuth(auth: AuthConfig): DynamicModule {
    return {
      module: TestConfigModule,
      global: true,
      providers: [{ provide: APP_CONFIG, useValue: { auth } as AppConfig }],
      exports: [APP_CONFIG],
    };
  }
}

class RecordingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

// passport keeps strategies in one process-wide registry, so each describe builds its app in
// beforeAll and closes it in afterAll: the newest JwtStrategy is the one every app uses.
async function startApp(auth: AuthConfig, logger: LoggerService = new RecordingLogger()): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TestConfigModule.forAuth(auth), AuthModule],
    controllers: [ProbeController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * A local issuer and an app trusting it, for one describe block. Tests read them through the
 * returned getters (they exist only once beforeAll ran).
 */
function withOidcApp(): { oidc: () => TestOidcProvider; app: () => INestApplication } {
  let oidc: TestOidcProvider;
  let app: INestApplication;
  beforeAll(async () => {
    oidc = await TestOidcProvider.start();
    app = await startApp(oidc.authConfig());
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

    const response = await request(app().getHttpServer())
      .get('/probe/me')
      .set(bearer(token))
      .set('x-request-id', 'req-valid-1')
      .expect(200);

    expect(response.body).toEqual({
      kind: 'user',
      issuer: oidc().issuer,
      subject: 'user-42',
      name: 'ada@example.test',
      request_id: 'req-valid-1',
      source_ip: expect.any(String),
    });
  });

  it('names the caller by sub when the token has no email claim', async () => {
    const token = await oidc().token({ sub: 'svc-build', email: undefined });

    const response = await request(app().getHttpServer()).get('/probe/me').set(bearer(token)).expect(200);

    expect(response.body).toMatchObject({ subject: 'svc-build', name: 'svc-build' });
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    const token = await oidc().token({}, { expiresIn: -10 });

    await request(app().getHttpServer()).get('/probe/me').set(bearer(token)).expect(200);
  });

  it('answers 401 UNAUTHENTICATED with a bare Bearer challenge when there is no token', async () => {
    const response = await request(app().getHttpServer())
      .get('/probe/me')
      .set('x-request-id', 'req-no-token')
      .expect(401);

    expect(response.headers['www-authenticate']).toBe('Bearer realm="runner-token-service"');
    expect(response.body).toEqual({
      error: {
        code: 'UNAUTHENTICATED',
        message: 'Send an OIDC token in the Authorization header: Bearer <token>',
      },
      request_id: 'req-no-token',
    });
  });

  it('answers 401 UNAUTHENTICATED when the Authorization header is not a Bearer one', async () => {
    const response = await request(app().getHttpServer())
      .get('/probe/me')
      .set('Authorization', 'Basic dXNlcjpwYXNz')
      .expect(401);

    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 TOKEN_EXPIRED with the expiry time for a token expired beyond the tolerance', async () => {
    const token = await oidc().token({}, { expiresIn: -120 });

    const response = await request(app().getHttpServer()).get('/probe/me').set(bearer(token)).expect(401);

    expect(response.body.error.code).toBe('TOKEN_EXPIRED');
    expect(response.body.error.message).toMatch(/^The token expired at \d{4}-\d\d-\d\dT.*; get a new token from /);
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer realm="runner-token-service", error="invalid_token", error_description="The token expired at /,
    );
    expect(JSON.stringify(response.body)).not.toContain(token);
    expect(response.headers['www-authenticate']).not.toContain(token);
  });

  const rejectedTokens: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a wrong audience',
      () => oidc().token({}, { audience: 'some-other-service' }),
      /^The token's audience \(aud\) must be runner-token-service$/,
    ],
    [
      'a wrong issuer',
      () => oidc().token({}, { issuer: 'https://evil.example' }),
      /^The token's issuer \(iss\) must be http:\/\/127\.0\.0\.1:\d+$/,
    ],
    ['alg none', () => oidc().token({}, { alg: 'none' }), /^The token's alg must be one of RS256, /],
    [
      'HS256 signed with the public key (key confusion)',
      () => oidc().token({}, { alg: 'HS256' }),
      /^The token's alg must be one of RS256, /,
    ],
    [
      'a key that the JWKS does not publish',
      () => oidc().token({}, { signWith: 'unknown-key' }),
      /^The token's signing key \(kid\) is not among the keys published at /,
    ],
    [
      'a kid that the JWKS does not publish',
      () => oidc().token({}, { kid: 'rotated-away' }),
      /^The token's signing key \(kid\) is not among the keys published at /,
    ],
    [
      "the published kid but another key's signature",
      () => oidc().token({}, { signWith: 'unknown-key', kid: oidc().kid }),
      /^The token's signature does not match the issuer's key/,
    ],
    ['no exp claim', () => oidc().token({}, { noExp: true }), /^The token has no exp claim/],
    ['no sub claim', () => oidc().token({ sub: undefined }), /^The token has no sub claim/],
    ['a non-numeric exp claim', () => oidc().token({ exp: 'tomorrow' }), /^The token's exp claim must be a number/],
    ['not a JWT at all', async () => 'not-a-jwt', /^The bearer token is not a well-formed signed JWT/],
  ];

  it.each(rejectedTokens)('answers 401 TOKEN_INVALID for a token with %s', async (_case, makeToken, message) => {
    const token = await makeToken();

    const response = await request(app().getHttpServer())
      .get('/probe/me')
      .set(bearer(token))
      .set('x-request-id', 'req-bad-token')
      .expect(401);

    expect(response.body).toEqual({
      error: { code: 'TOKEN_INVALID', message: expect.stringMatching(message) },
      request_id: 'req-bad-token',
    });
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

    const response = await request(app().getHttpServer())
      .get('/probe/me')
      .set(bearer(`${header}.${forgedPayload}.${signature}`))
      .expect(401);

    expect(response.body.error).toEqual({
      code: 'TOKEN_INVALID',
      message: expect.stringMatching(/^The token's signature does not match/),
    });
  });

  it('rejects unsigned and HMAC tokens made without the provider', async () => {
    const claims = { iss: oidc().issuer, aud: oidc().audience, sub: 'x', exp: Math.floor(Date.now() / 1000) + 300 };
    const server = app().getHttpServer();

    for (const token of [unsignedToken(claims), await hmacToken(claims, 'a-shared-secret')]) {
      const response = await request(server).get('/probe/me').set(bearer(token)).expect(401);
      expect(response.body.error.code).toBe('TOKEN_INVALID');
    }
  });

  it('serves @Public() routes without a token, and ignores a bad one there', async () => {
    await request(app().getHttpServer()).get('/probe/open').expect(200, { ok: true });
    await request(app().getHttpServer()).get('/probe/open').set(bearer('not-a-jwt')).expect(200, { ok: true });
  });
});

describe('OIDC authentication: JWKS caching', () => {
  const { oidc, app } = withOidcApp();

  it('fetches the JWKS once for many requests', async () => {
    const server = app().getHttpServer();
    for (let i = 0; i < 5; i += 1) {
      await request(server).get('/probe/me').set(bearer(await oidc().token())).expect(200);
    }
    await Promise.all(
      Array.from({ length: 5 }, async () =>
        request(server).get('/probe/me').set(bearer(await oidc().token())).expect(200),
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

    const response = await request(app().getHttpServer()).get('/probe/me').set(bearer(token)).expect(503);

    expect(response.body.error.code).toBe('AUTH_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toContain(token);
  });
});

describe('OIDC authentication off (ENABLE_OIDC_AUTH=false)', () => {
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp(
      { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 30 },
      logger,
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  it('acts as local-user for a request without a token', async () => {
    const response = await request(app.getHttpServer()).get('/probe/me').expect(200);

    expect(response.body).toMatchObject({ kind: 'user', issuer: 'local', subject: 'local-user', name: 'local-user' });
  });

  it('does not look at a token that is sent anyway', async () => {
    const response = await request(app.getHttpServer()).get('/probe/me').set(bearer('not-a-jwt')).expect(200);

    expect(response.body.subject).toBe('local-user');
  });

  it('warns once at start that every request acts as local-user', () => {
    const warnings = logger.warnings.filter((message) => message.includes('OIDC authentication is OFF'));

    expect(warnings).toEqual([expect.stringContaining('Never run this in production')]);
  });
});
