import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Metrics } from '../metrics/metrics.js';
import { Actor } from './actor.js';
import {
  AuthenticationFailedException,
  type AuthFailure,
  AuthUnavailableException,
  KeysUnavailableError,
  MISSING_TOKEN_MESSAGE,
  TokenRejectedError,
  wwwAuthenticateHeader,
} from './auth-errors.js';
import { decodeUnverified, extractBearerToken } from './bearer-token.js';
import { IS_PUBLIC_KEY } from './public.decorator.js';
import { RejectedTokenAudit } from './rejected-token-audit.js';
import { TokenVerifier } from './token-verifier.js';

/** What the guard leaves on the request for `@CurrentActor()`. */
export type AuthenticatedRequest = Request & { actor?: Actor };

type Origin = { requestId?: string; sourceIp?: string };

/**
 * The global guard: every route needs a valid OIDC bearer token of a trusted issuer unless it is
 * `@Public()`. With OIDC auth off, every request acts as the fixed local identity and no token is
 * looked at. Refused tokens answer 401 (503 when the issuer's keys cannot be had) and a sample of
 * them is audited.
 */
@Injectable()
export class OidcAuthGuard implements CanActivate {
  private readonly logger = new Logger(OidcAuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly rejections: RejectedTokenAudit,
    private readonly metrics: Metrics,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const origin = requestOrigin(request);
    if (!this.config.auth.enabled) {
      request.actor = Actor.local(origin);
      return true;
    }
    const token = extractBearerToken(request.headers);
    if (!token) {
      this.reject(context, origin, { code: 'UNAUTHENTICATED', reason: 'missing', message: MISSING_TOKEN_MESSAGE });
    }
    try {
      const { identity } = await this.verifier.verify(token);
      request.actor = Actor.user(identity, origin);
      return true;
    } catch (error) {
      if (error instanceof KeysUnavailableError) {
        this.logger.warn(`Request ${origin.requestId ?? '-'}: cannot get the issuer's signing keys: ${error.detail}`);
        this.reject(context, origin, { code: 'AUTH_UNAVAILABLE', reason: 'keys_unavailable', message: error.message });
      }
      if (!(error instanceof TokenRejectedError)) {
        // A bug, not a bad token: let the exception filter answer 500.
        throw error;
      }
      await this.rejections.record({
        reason: error.reason,
        unverifiedClaims: decodeUnverified(token)?.payload ?? null,
        origin,
      });
      this.reject(context, origin, error.failure, error.detail);
    }
  }

  private reject(context: ExecutionContext, origin: Origin, failure: AuthFailure, detail?: string): never {
    this.metrics.authFailures.inc({ reason: failure.reason });
    // Why a caller was turned away, for whoever debugs their setup (LOG_LEVEL=debug); never the token.
    this.logger.debug(
      `Rejected request ${origin.requestId ?? '-'}: ${failure.code} (${failure.reason}): ${failure.message}` +
        (detail ? ` [${detail}]` : ''),
    );
    if (failure.code === 'AUTH_UNAVAILABLE') {
      throw new AuthUnavailableException(failure, origin.requestId);
    }
    // Set here, not by the exception filter: the challenge belongs to the 401 (RFC 6750).
    context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', wwwAuthenticateHeader(failure));
    throw new AuthenticationFailedException(failure, origin.requestId);
  }
}

/** pino-http sets `request.id`; without it (tests, a bare app) use the caller's x-request-id. */
function requestOrigin(request: Request): Origin {
  const id: unknown = (request as { id?: unknown }).id;
  const header = request.headers['x-request-id'];
  const requestId =
    typeof id === 'string' || typeof id === 'number' ? String(id) : Array.isArray(header) ? header[0] : header;
  return { requestId, sourceIp: request.ip };
}
