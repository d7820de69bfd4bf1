import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { ApiRequest, OrgRoute, Route } from './route-table.js';
import { DOCS, errorBody, notFound, type RateLimit, type SimResponse } from './simulator-http.js';
import { BASE62, isRecord, nowSeconds, randomString } from './simulator.util.js';

/** The GitHub App's side of GitHub: App JWTs, installation tokens, and the token check org routes need. */

export interface AppAuthOptions {
  appId: string;
  installationId: number;
  org: string;
  publicKeyPem: string;
  tokenLifetimeSeconds: number;
}

const DOCS_ACCESS_TOKEN =
  'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';
// GitHub allows some clock drift between the App's host and its own.
const JWT_CLOCK_SKEW_SECONDS = 60;
const JWT_MAX_LIFETIME_SECONDS = 600;
const GRANTED_PERMISSIONS: Record<string, string> = { organization_self_hosted_runners: 'write' };

const JWT_UNDECODABLE = 'A JSON web token could not be decoded';
const JWT_EXP_INVALID =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const JWT_EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const JWT_IAT_INVALID =
  "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";

export class AppAuth {
  /** GitHub also accepts the App's client ID as the JWT `iss`. */
  readonly clientId = `Iv23li${randomString(BASE62, 14)}`;

  private readonly publicKey: KeyObject;
  /** Installation tokens issued, with when each expires (ms). */
  private readonly installationTokens = new Map<string, number>();

  constructor(
    private readonly options: AppAuthOptions,
    private readonly rateLimit: RateLimit,
  ) {
    this.publicKey = createPublicKey(options.publicKeyPem);
  }

  /** POST /app/installations/{installation_id}/access_tokens, authenticated with an App JWT. */
  installationTokenRoute(): Route<ApiRequest> {
    return {
      method: 'POST',
      path: '/app/installations/{installation_id}/access_tokens',
      handle: ({ params, credential, body }) =>
        this.createInstallationToken(credential, decodeURIComponent(params.installation_id), body),
    };
  }

  /**
   * Wraps an org route the way GitHub orders its checks: token, rate limit (a spent window refuses
   * the request), then the org.
   */
  orgScoped(route: OrgRoute): Route<ApiRequest> {
    return {
      method: route.method,
      path: route.path,
      handle: (request) => {
        const org = decodeURIComponent(request.params.org);
        const authError = this.checkInstallationToken(request.credential);
        if (authError) return authError;
        if (this.rateLimit.exhausted()) return this.rateLimit.exceeded(this.options.installationId);
        this.rateLimit.count();
        if (org.toLowerCase() !== this.options.org.toLowerCase()) return notFound(route.docs);
        return route.handle(request);
      },
    };
  }

  /** Makes every installation token issued so far invalid (answers 401 Bad credentials). */
  revokeInstallationTokens(): void {
    this.installationTokens.clear();
  }

  private createInstallationToken(credential: string | undefined, installationId: string, body: unknown): SimResponse {
    const unauthorized = (message: string): SimResponse => ({ status: 401, body: errorBody(401, message, DOCS) });
    if (!credential) return unauthorized('Requires authentication');
    const jwtError = this.verifyAppJwt(credential);
    if (jwtError) return unauthorized(jwtError);
    this.rateLimit.count();
    if (installationId !== String(this.options.installationId)) return notFound(DOCS_ACCESS_TOKEN);

    const requested = isRecord(body) && isRecord(body.permissions) ? body.permissions : undefined;
    if (requested) {
      const notGranted = Object.entries(requested).some(
        ([name, level]) => !(name in GRANTED_PERMISSIONS) || (level === 'write' && GRANTED_PERMISSIONS[name] !== 'write'),
      );
      if (notGranted) {
        return {
          status: 422,
          body: errorBody(422, 'The permissions requested are not granted to this installation.', DOCS_ACCESS_TOKEN),
        };
      }
    }

    const token = `ghs_${randomString(BASE62, 60)}`;
    const expiresAt = Date.now() + this.options.tokenLifetimeSeconds * 1000;
    this.installationTokens.set(token, expiresAt);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: requested ?? { ...GRANTED_PERMISSIONS },
        repository_selection: 'all',
      },
    };
  }

  /** Returns GitHub's error message when the App JWT is not acceptable, else undefined. */
  private verifyAppJwt(jwt: string): string | undefined {
    const parts = jwt.split('.');
    if (parts.length !== 3) return JWT_UNDECODABLE;
    const [encodedHeader, encodedPayload, encodedSignature] = parts;
    const header = decodeJwtPart(encodedHeader);
    const payload = decodeJwtPart(encodedPayload);
    if (!header || !payload || header.alg !== 'RS256') return JWT_UNDECODABLE;
    const signatureValid = verify(
      'RSA-SHA256',
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      this.publicKey,
      Buffer.from(encodedSignature, 'base64url'),
    );
    // GitHub gives the same answer for a foreign key and for an `iss` naming another App.
    if (!signatureValid) return JWT_UNDECODABLE;
    if (String(payload.iss) !== this.options.appId && payload.iss !== this.clientId) return JWT_UNDECODABLE;
    const now = nowSeconds();
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || iat > now + JWT_CLOCK_SKEW_SECONDS) return JWT_IAT_INVALID;
    if (typeof exp !== 'number' || exp <= now) return JWT_EXP_INVALID;
    if (exp - iat > JWT_MAX_LIFETIME_SECONDS || exp > now + JWT_MAX_LIFETIME_SECONDS + JWT_CLOCK_SKEW_SECONDS) {
      return JWT_EXP_TOO_FAR;
    }
    return undefined;
  }

  private checkInstallationToken(credential: string | undefined): SimResponse | undefined {
    if (!credential) return { status: 401, body: errorBody(401, 'Requires authentication', DOCS) };
    const expiresAt = this.installationTokens.get(credential);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return { status: 401, body: errorBody(401, 'Bad credentials', DOCS) };
    }
    return undefined;
  }
}

export function parseAuthorization(header: string | undefined): string | undefined {
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
