import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from './actor.js';
import type { AuthenticatedRequest } from './oidc-auth.guard.js';

/**
 * The Actor that OidcAuthGuard put on the request: the token's caller, or the local identity when
 * OIDC auth is off. Undefined on `@Public()` routes, which the guard does not look at.
 */
export const CurrentActor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Actor | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().actor,
);
