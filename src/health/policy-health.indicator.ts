import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PolicyStore } from '../policy/policy.store.js';

/**
 * The access policy in force: whether there is a file and when it was loaded. Always up (a reload
 * that fails keeps the policy that was in force), but the failure's time is shown, so an operator
 * sees that the file on disk is not what is being enforced. /health answers anyone: the file's path
 * and why it failed (which names rules, issuers and URLs) are in the log only.
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
      file: status.source !== null,
      loaded_at: status.loadedAt.toISOString(),
      ...(status.lastReloadError && { last_reload_failed_at: status.lastReloadError.at.toISOString() }),
    });
  }
}
