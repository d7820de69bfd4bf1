/**
 * A local OIDC issuer for tests: a key pair, a JWKS and a discovery document served over HTTP on
 * 127.0.0.1, and tokens signed with that key (or deliberately wrong ones). Several can run at once,
 * each with its own `iss` (which may differ from where its keys are served, as for GitHub Actions).
 *
 *   const oidc = await TestOidcProvider.start();
 *   config.auth = oidc.authConfig();               // the OIDC_* shorthand
 *   const issuer = oidc.trustedIssuer({ name: 'corp' });  // a TrustedIssuer for a policy
 *   await request(server).get('/api/v1/runners').auth(await oidc.token(), { type: 'bearer' });
 *   await oidc.stop();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import type { AuthConfig } from '../../src/config/app-config.js';
import type { TrustedIssuer } from '../../src/policy/policy.types.js';

export { corporateClaims, githubActionsClaims, kubernetesClaims, GITHUB_ACTIONS_ISSUER } from './oidc-claims.js';

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
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const SIGNING_ALG = 'RS256';
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
/** How often a dripping JWKS sends its next byte. */
const DRIP_INTERVAL_MS = 2_000;
/** More than the service accepts (1 MiB). */
const HUGE_JWKS_BYTES = 1024 * 1024 + 64 * 1024;

/**
 * How the JWKS endpoint answers: normally; one byte every 2 s, never finishing (`drip`); HTTP 500
 * (`fail`); or a body over 1 MiB sent in chunks without a Content-Length (`huge`).
 */
export type JwksMode = 'normal' | 'drip' | 'fail' | 'huge';

export interface ProviderOptions {
  /** The `iss` its tokens carry; default its own URL, `http://127.0.0.1:PORT`. */
  issuer?: string;
}

export interface TokenOptions {
  /** Seconds from now, or '90s', '5m', '2h', '1d'; negative means already expired. Default 300. */
  expiresIn?: string | number;
  /** RS256 (default) or another RSA alg; 'HS256'/'HS384'/'HS512' sign with an HMAC secret
   * (default: the provider's public key PEM, the classic key-confusion attack); 'none' is unsigned. */
  alg?: string;
  /** The header's kid; default the current key's kid. `null` leaves kid out of the header. */
  kid?: string | null;
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

interface SigningKey {
  kid: string;
  privateKey: jose.CryptoKey;
  publicJwk: jose.JWK;
  publicKeyPem: string;
}

async function makeSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = `test-key-${randomBytes(4).toString('hex')}`;
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
  return { kid, privateKey, publicJwk, publicKeyPem: await jose.exportSPKI(publicKey) };
}

export class TestOidcProvider {
  readonly audience = TEST_AUDIENCE;
  /** The `iss` its tokens carry. */
  readonly issuer: string;
  /** How the JWKS endpoint answers from now on. */
  jwksMode: JwksMode = 'normal';
  /** The `issuer` its discovery document names; default its issuer (set another to test the check). */
  discoveryIssuer?: string;
  private requests = { jwks: 0, discovery: 0 };
  private readonly drips = new Set<NodeJS.Timeout>();
  private unknownKey?: jose.CryptoKey;
  /** Published keys, the current signing key last. */
  private keys: SigningKey[];

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:PORT`: where its JWKS and discovery document are served. */
    readonly url: string,
    first: SigningKey,
    options: ProviderOptions,
  ) {
    this.issuer = options.issuer ?? url;
    this.keys = [first];
  }

  /** Generates a key pair and serves its JWKS and discovery document on an ephemeral port. */
  static async start(options: ProviderOptions = {}): Promise<TestOidcProvider> {
    const first = await makeSigningKey();
    let provider: TestOidcProvider | undefined;
    const server = createServer((request, response) => {
      if (provider) provider.answer(request, response);
      else response.writeHead(503).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    provider = new TestOidcProvider(server, `http://127.0.0.1:${port}`, first, options);
    return provider;
  }

  /** The key tokens are signed with (the newest). */
  get kid(): string {
    return this.currentKey.kid;
  }

  get jwksUrl(): string {
    return `${this.url}${JWKS_PATH}`;
  }

  /** How many times the JWKS was fetched. */
  get jwksRequests(): number {
    return this.requests.jwks;
  }

  /** How many times the discovery document was fetched. */
  get discoveryRequests(): number {
    return this.requests.discovery;
  }

  /**
   * Publishes a new key and signs with it from now on. The old key stays published unless
   * `dropOld`, as an issuer rotating its keys does for a while.
   */
  async rotateKey(options: { dropOld?: boolean } = {}): Promise<string> {
    const next = await makeSigningKey();
    this.keys = options.dropOld ? [next] : [...this.keys, next];
    return next.kid;
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
      return hmacToken(payload, options.hmacSecret ?? this.currentKey.publicKeyPem, alg);
    }
    const unknown = options.signWith === 'unknown-key';
    const key = unknown ? await this.getUnknownKey() : this.currentKey.privateKey;
    const kid = options.kid === undefined ? (unknown ? 'not-published' : this.kid) : options.kid;
    const header = { alg, typ: 'JWT', ...(kid !== null && { kid }) };
    return new jose.SignJWT(withoutUndefined(payload)).setProtectedHeader(header).sign(key);
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

  /**
   * A TrustedIssuer for this provider, as a policy would hold it: its iss and audience, its JWKS
   * URL (pass `jwksUrl: undefined` to have it discovered), RSA and EC algorithms, display claim
   * `email`, tokens of at most an hour, a 30 s JWKS cooldown and 30 s of clock tolerance.
   */
  trustedIssuer(overrides: Partial<TrustedIssuer> = {}): TrustedIssuer {
    return {
      name: 'test',
      issuer: this.issuer,
      audiences: [this.audience],
      jwksUrl: this.jwksUrl,
      algorithms: [...ASYMMETRIC_ALGORITHMS],
      displayClaim: 'email',
      maxTokenLifetimeSeconds: 3600,
      jwksCooldownSeconds: 30,
      clockToleranceSeconds: 30,
      publicIssuer: false,
      ...overrides,
    };
  }

  /** Stops serving and drops kept-alive and dripping connections. */
  async stop(): Promise<void> {
    for (const drip of this.drips) clearInterval(drip);
    this.drips.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private get currentKey(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    if (request.method === 'GET' && request.url === DISCOVERY_PATH) {
      this.requests.discovery += 1;
      const document = { issuer: this.discoveryIssuer ?? this.issuer, jwks_uri: this.jwksUrl };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
      return;
    }
    if (request.method === 'GET' && request.url === JWKS_PATH) {
      this.requests.jwks += 1;
      this.answerJwks(response);
      return;
    }
    response.writeHead(404).end();
  }

  private answerJwks(response: ServerResponse): void {
    const body = JSON.stringify({ keys: this.keys.map((key) => key.publicJwk) });
    switch (this.jwksMode) {
      case 'normal':
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
        return;
      case 'fail':
        response.writeHead(500).end();
        return;
      case 'huge': {
        // Chunked, with no Content-Length: only counting the bytes finds out.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"keys":[],"padding":"');
        const chunk = 'x'.repeat(64 * 1024);
        for (let sent = 0; sent < HUGE_JWKS_BYTES; sent += chunk.length) response.write(chunk);
        response.end('"}');
        return;
      }
      case 'drip': {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write(body.slice(0, 1));
        let next = 1;
        const drip = setInterval(() => {
          if (!response.destroyed) response.write(body.charAt(next++) || ' ');
        }, DRIP_INTERVAL_MS);
        this.drips.add(drip);
        response.on('close', () => {
          clearInterval(drip);
          this.drips.delete(drip);
        });
        return;
      }
    }
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
