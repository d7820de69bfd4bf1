import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/oidc-auth.guard.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { PolicyService } from '../policy/policy.service.js';
import { SuspensionsService } from '../suspensions/suspensions.service.js';

/**
 * Lets through only an admin (PolicyService.requireAdmin: FORBIDDEN otherwise) who is not suspended
 * (IDENTITY_SUSPENDED), on every admin route. A guard runs after authentication and before the
 * request is validated, so a caller who is not an admin gets 403 whatever it sends, never a 400
 * that describes the admin API.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly policy: PolicyService,
    private readonly suspensions: SuspensionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
    // The global OidcAuthGuard has set the actor; an admin route is never @Public().
    if (!actor) throw new DomainError(ERROR_CODES.FORBIDDEN, 'This needs an identity that the policy grants admin: true');
    this.policy.requireAdmin(actor);
    await this.suspensions.assertNotSuspended(actor, this.policy.ruleNameOf(actor));
    return true;
  }
}
