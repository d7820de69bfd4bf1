import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, type SecretOrKeyProvider, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { APP_CONFIG, type AppConfig, type AuthConfig } from '../config/app-config.js';
import type { Identity } from './actor.js';
import { MALFORMED_TOKEN_MESSAGE, TokenRejectedError } from './auth-errors.js';

/** Asymmetric algorithms only: never HS* (a public key must not double as an HMAC secret), never none. */
export const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export type AcceptedAlgorithm = (typeof ACCEPTED_ALGORITHMS)[number];

export const MAX_CLOCK_TOLERANCE_SECONDS = 60;
export const JWKS_REQUESTS_PER_MINUTE = 10;
/** jwks-rsa waits 30 s by default; every request without a cached key would hang that long. */
export const JWKS_TIMEOUT_MS = 5_000;


export type JwtPayload = Record<string, unknown> & { iss?: unknown; sub?: unknown; exp?: unknown };

/** `Authorization: Bearer <token>` (scheme case-insensitive); null when absent or another scheme. */
export const extractBearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Verifies bearer JWTs against the issuer's JWKS. passport-jwt and jsonwebtoken check signature,
 * alg, iss, aud, nbf and exp (when present); this class adds what they leave optional: exp and sub
 * are required. Failures reach OidcAuthGuard.handleRequest, which answers 401 (or 503 when the
 * JWKS cannot be fetched).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly userClaim: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super(buildStrategyOptions(config.auth));
    this.userClaim = config.auth.userClaim;
  }

  validate(payload: JwtPayload): Identity {
    // jsonwebtoken only checks exp when the claim is present; a token without one would never expire.
    if (typeof payload.exp !== 'number') {
      throw new TokenRejectedError('TOKEN_INVALID', 'The token has no exp claim; the issuer must set an expiry');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new TokenRejectedError('TOKEN_INVALID', 'The token has no sub claim; ownership is bound to it');
    }
    const claim = payload[this.userClaim];
    return {
      issuer: payload.iss as string,
      subject: payload.sub,
      name: typeof claim === 'string' && claim !== '' ? claim : payload.sub,
    };
  }
}

function buildStrategyOptions(auth: AuthConfig): StrategyOptionsWithoutRequest {
  const base = {
    jwtFromRequest: extractBearerToken,
    algorithms: [...ACCEPTED_ALGORITHMS],
    ignoreExpiration: false,
  };
  if (!auth.enabled) {
    // OidcAuthGuard never calls the strategy then; refuse everything in case something else does.
    return { ...base, secretOrKeyProvider: refuseAllTokens };
  }
  assertUsableConfig(auth);
  return {
    ...base,
    secretOrKeyProvider: createKeyProvider(auth.jwksUrl),
    // Top-level, not in jsonWebTokenOptions: passport-jwt copies these over jsonWebTokenOptions,
    // so an issuer/audience given only there would be replaced by undefined and not checked.
    issuer: auth.issuer,
    audience: auth.audience,
    jsonWebTokenOptions: { clockTolerance: auth.clockToleranceSeconds },
  };
}

/** jsonwebtoken silently skips the iss/aud checks when they are empty strings. */
function assertUsableConfig(auth: AuthConfig): void {
  const missing = (['issuer', 'audience', 'jwksUrl'] as const).filter((key) => !auth[key]);
  if (missing.length > 0) {
    throw new Error(`OIDC authentication is on but auth.${missing.join(', auth.')} is empty`);
  }
  const tolerance = auth.clockToleranceSeconds;
  if (!Number.isInteger(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SECONDS) {
    throw new Error(`auth.clockToleranceSeconds must be an integer from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
}

const refuseAllTokens: SecretOrKeyProvider = (_request, _rawJwtToken, done) =>
  done(new TokenRejectedError('TOKEN_INVALID', 'OIDC authentication is disabled'));

/**
 * jwks-rsa's key provider (cached, rate-limited), behind a check of the token's header so that a
 * token with a refused alg or an undecodable body fails with a precise message instead of
 * jsonwebtoken's "secret or public key must be provided".
 */
function createKeyProvider(jwksUri: string): SecretOrKeyProvider {
  const jwksSecret = passportJwtSecret({
    jwksUri,
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
    timeout: JWKS_TIMEOUT_MS,
    // The default turns "kid not found" into "no key" (cb(null)); pass the error on to name it.
    handleSigningKeyError: (err, cb) => cb(err),
  });
  return (request, rawJwtToken: string, done) => {
    const header = decodeJoseHeader(rawJwtToken);
    if (!header) {
      return done(new TokenRejectedError('TOKEN_INVALID', MALFORMED_TOKEN_MESSAGE));
    }
    if (!(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      return done(
        new TokenRejectedError('TOKEN_INVALID', `The token's alg must be one of ${ACCEPTED_ALGORITHMS.join(', ')}`),
      );
    }
    jwksSecret(request, rawJwtToken, done);
  };
}

/** The JOSE header, or null unless the token is three dot-separated parts with JSON objects first. */
function decodeJoseHeader(token: string): { alg: string } | null {
  const parts = token.split('.');
  if (parts.length !== 3) {
    return null;
  }
  const [header, payload] = parts.slice(0, 2).map(decodeJsonObject);
  if (!header || !payload || typeof header.alg !== 'string') {
    return null;
  }
  return { alg: header.alg };
}

function decodeJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
