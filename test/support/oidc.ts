/**
 * A local OIDC issuer for tests: an RSA key pair, a JWKS served over HTTP on 127.0.0.1, and tokens
 * signed with that key (or deliberately wrong ones).
 *
 *   const oidc = await TestOidcProvider.start();
 *   config.auth = oidc.authConfig();
 *   await request(server).get('/api/v1/runners').auth(await oidc.token(), { type: 'bearer' });
 *   await oidc.stop();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import type { AuthConfig } from '../../src/config/app-config.js';

export const TEST_AUDIENCE = 'runner-token-service';

/** A complete, valid auth configuration for unit tests that never fetch keys. */
export const EXAMPLE_AUTH_CONFIG: AuthConfig = {
  enabled: true,
  issuer: 'https://issuer.example',
  audience: TEST_AUDIENCE,
  jwksUrl: 'https://issuer.example/jwks',
  userClaim: 'email',
  clockToleranceSeconds: 30,
};
const JWKS_PATH = '/.well-known/jwks.json';
const SIGNING_ALG = 'RS256';

export interface TokenOptions {
  /** Seconds from now, or '90s', '5m', '2h', '1d'; negative means already expired. Default 300. */
  expiresIn?: string | number;
  /** RS256 (default) or another RSA alg; 'HS256'/'HS384'/'HS512' sign with an HMAC secret
   * (default: the provider's public key PEM, the classic key-confusion attack); 'none' is unsigned. */
  alg?: string;
  /** The header's kid; default the published key's kid. */
  kid?: string;
  /** HMAC secret for HS* algs. */
  hmacSecret?: string;
  /** Leave out the exp claim. */
  noExp?: boolean;
  /** Default: the provider's issuer. */
  issuer?: string;
  /** Default: 'runner-token-service'. */
  audience?: string;
  /** Sign with a key that the JWKS does not publish (under its own kid). */
  signWith?: 'unknown-key';
}

export class TestOidcProvider {
  readonly audience = TEST_AUDIENCE;
  private requests = 0;
  private unknownKey?: jose.CryptoKey;

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:PORT` */
    readonly issuer: string,
    readonly kid: string,
    private readonly privateKey: jose.CryptoKey,
    private readonly publicJwk: jose.JWK,
    private readonly publicKeyPem: string,
  ) {}

  /** Generates a key pair and serves its JWKS on an ephemeral port. */
  static async start(): Promise<TestOidcProvider> {
    const { privateKey, publicKey } = await jose.generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = `test-key-${randomBytes(4).toString('hex')}`;
    const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    const publicKeyPem = await jose.exportSPKI(publicKey);

    let provider: TestOidcProvider | undefined;
    const server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === JWKS_PATH && provider) {
        provider.requests += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [provider.publicJwk] }));
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    provider = new TestOidcProvider(server, `http://127.0.0.1:${port}`, kid, privateKey, publicJwk, publicKeyPem);
    return provider;
  }

  get jwksUrl(): string {
    return `${this.issuer}${JWKS_PATH}`;
  }

  /** How many times the JWKS was fetched. */
  get jwksRequests(): number {
    return this.requests;
  }

  /**
   * A signed JWT. Default claims: `sub` user-<random>, `email` <sub>@example.test, `iat` now,
   * `exp` in 5 minutes, `iss` and `aud` this provider's. `claims` are merged over them; a claim set
   * to undefined is left out (`{ sub: undefined }` makes a token without sub).
   */
  async token(claims: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
    const subject = `user-${randomBytes(4).toString('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: options.issuer ?? this.issuer,
      aud: options.audience ?? this.audience,
      sub: subject,
      email: `${subject}@example.test`,
      iat: now,
      ...claims,
    };
    if (!options.noExp && !('exp' in claims)) {
      payload.exp = now + toSeconds(options.expiresIn ?? 300);
    }
    const alg = options.alg ?? SIGNING_ALG;
    if (alg === 'none') {
      return unsignedToken(payload);
    }
    if (alg.startsWith('HS')) {
      return hmacToken(payload, options.hmacSecret ?? this.publicKeyPem, alg);
    }
    const unknown = options.signWith === 'unknown-key';
    const key = unknown ? await this.getUnknownKey() : this.privateKey;
    const kid = options.kid ?? (unknown ? 'not-published' : this.kid);
    return new jose.SignJWT(withoutUndefined(payload)).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
  }

  /** An enabled AuthConfig for this provider (userClaim 'email', 30 s clock tolerance). */
  authConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
    return {
      enabled: true,
      issuer: this.issuer,
      audience: this.audience,
      jwksUrl: this.jwksUrl,
      userClaim: 'email',
      clockToleranceSeconds: 30,
      ...overrides,
    };
  }

  /** Stops serving the JWKS and drops kept-alive connections. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async getUnknownKey(): Promise<jose.CryptoKey> {
    this.unknownKey ??= (await jose.generateKeyPair(SIGNING_ALG, { extractable: true })).privateKey;
    return this.unknownKey;
  }
}

/** An `alg: none` token: base64url header and payload, empty signature. */
export function unsignedToken(payload: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(withoutUndefined(payload))}.`;
}

/** A token signed with an HMAC secret (HS256 unless told otherwise). */
export async function hmacToken(payload: Record<string, unknown>, secret: string, alg = 'HS256'): Promise<string> {
  return new jose.SignJWT(withoutUndefined(payload))
    .setProtectedHeader({ alg, typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/**
 * jwks-rsa 4 `require()`s jose 6, which is ESM-only. Node >= 20.19 allows that, Jest's CommonJS
 * loader does not before Node 24.9 ("Must use import to load ES Module"). Call this before
 * importing — with `await import(...)`, after this call — any module that loads jwks-rsa
 * (AuthModule, AppModule): jwks-rsa's `require('jose')` then gets the jose this file imported.
 * test/jest-setup.ts calls it before every test file. Outside Jest it does nothing.
 */
export function provideJoseToJwksRsa(): void {
  const meta = import.meta as ImportMeta & { jest?: { mock(name: string, factory: () => unknown): unknown } };
  meta.jest?.mock('jose', () => jose);
}

const SPAN_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** 300, -120, '90s', '5m', '-2h', '1d' -> seconds. */
function toSeconds(span: string | number): number {
  if (typeof span === 'number') {
    return span;
  }
  const match = /^(-?\d+)\s*([smhd]?)$/.exec(span.trim());
  if (!match) {
    throw new Error(`expiresIn must be seconds or like '5m', '-2h'; got '${span}'`);
  }
  return Number(match[1]) * SPAN_UNITS[match[2] || 's'];
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function withoutUndefined(payload: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined));
}
