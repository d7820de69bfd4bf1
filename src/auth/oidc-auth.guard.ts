import { type ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Actor, type Identity } from './actor.js';
import {
  AuthenticationFailedException,
  AuthUnavailableException,
  type AuthFailure,
  describeAuthFailure,
  MISSING_TOKEN_MESSAGE,
  TokenRejectedError,
  wwwAuthenticateHeader,
} from './auth-errors.js';
import { extractBearerToken } from './jwt.strategy.js';
import { IS_PUBLIC_KEY } from './public.decorator.js';

/** What the guard leaves on the request for `@CurrentActor()`. */
export type AuthenticatedRequest = Request & { actor?: Actor };

/**
 * The global guard: every route needs a valid OIDC bearer token unless it is `@Public()`. With
 * OIDC auth off, every request acts as the fixed local identity and no token is looked at.
 */
@Injectable()
export class OidcAuthGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger(OidcAuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
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
    if (!extractBearerToken(request)) {
      this.reject(context, { code: 'UNAUTHENTICATED', message: MISSING_TOKEN_MESSAGE });
    }
    // Runs passport-jwt; failures come back through handleRequest, which throws.
    await super.canActivate(context);
    request.actor = Actor.user(request.user as Identity, origin);
    return true;
  }

  /** passport's verdict: `err` from validate() (or a crash), `info` from jsonwebtoken/jwks-rsa. */
  override handleRequest<TUser = Identity>(err: unknown, user: unknown, info: unknown, context: ExecutionContext): TUser {
    if (err && !(err instanceof TokenRejectedError)) {
      // A bug, not a bad token: let the exception filter answer 500.
      throw err;
    }
    if (!err && user) {
      return user as TUser;
    }
    const reason = err ?? info;
    const failure = describeAuthFailure(reason, this.config.auth);
    if (failure.code === 'AUTH_UNAVAILABLE') {
      const cause = String((reason as { message?: unknown } | undefined)?.message ?? reason);
      this.logger.warn(`Cannot get the OIDC issuer's keys from ${this.config.auth.jwksUrl}: ${cause}`);
    }
    this.reject(context, failure);
  }

  private reject(context: ExecutionContext, failure: AuthFailure): never {
    const http = context.switchToHttp();
    const requestId = requestOrigin(http.getRequest<AuthenticatedRequest>()).requestId;
    // Why a caller was turned away, for whoever debugs their setup (LOG_LEVEL=debug); never the token.
    this.logger.debug(`Rejected request ${requestId ?? '-'}: ${failure.code}: ${failure.message}`);
    if (failure.code === 'AUTH_UNAVAILABLE') {
      throw new AuthUnavailableException(failure, requestId);
    }
    // Set here, not by the exception filter: the challenge belongs to the 401 (RFC 6750).
    http.getResponse<Response>().setHeader('WWW-Authenticate', wwwAuthenticateHeader(failure));
    throw new AuthenticationFailedException(failure, requestId);
  }
}

/** pino-http sets `request.id`; without it (tests, a bare app) use the caller's x-request-id. */
function requestOrigin(request: Request): { requestId?: string; sourceIp?: string } {
  const id: unknown = (request as { id?: unknown }).id;
  const header = request.headers['x-request-id'];
  const requestId =
    typeof id === 'string' || typeof id === 'number' ? String(id) : Array.isArray(header) ? header[0] : header;
  return { requestId, sourceIp: request.ip };
}
