import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PolicyStore } from '../policy/policy.store.js';

/**
 * The access policy in force: where it came from and when it was loaded. Always up (a reload that
 * fails keeps the policy that was in force), but the failure is shown, so an operator sees that the
 * file on disk is not what is being enforced.
 */
@Injectable()
export class PolicyHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly store: PolicyStore,
  ) {}

  check(key: string) {
    const status = this.store.status();
    return this.indicator.check(key).up({
      source: status.source ?? 'none (no POLICY_FILE: any authenticated caller, any labels)',
      loaded_at: status.loadedAt.toISOString(),
      ...(status.lastReloadError && {
        last_reload_error: { at: status.lastReloadError.at.toISOString(), message: status.lastReloadError.message },
      }),
    });
  }
}
