import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/oidc-auth.guard.js';
import { PolicyService } from '../policy/policy.service.js';
import { SuspensionsService } from './suspensions.service.js';

const OPEN_TO_SUSPENDED = 'openToSuspended';

/** Marks a route a suspended caller may still use (GET /me, which says that it is suspended). */
export const OpenToSuspended = () => SetMetadata(OPEN_TO_SUSPENDED, true);

/**
 * Refuses every request of a suspended identity (or of one its rule is suspended for) with
 * IDENTITY_SUSPENDED, after authentication and before the handler. Runs on a snapshot of the
 * suspensions a couple of seconds old at most; provisioning checks the database itself, in the
 * transaction that would add the runner.
 */
@Injectable()
export class SuspendedCallerInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly policy: PolicyService,
    private readonly suspensions: SuspensionsService,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const actor = context.switchToHttp().getRequest<AuthenticatedRequest>().actor;
    const open = this.reflector.getAllAndOverride<boolean | undefined>(OPEN_TO_SUSPENDED, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (actor && actor.kind === 'user' && !open) {
      await this.suspensions.assertNotSuspendedRecently(actor, this.policy.ruleNameOf(actor));
    }
    return next.handle();
  }
}
