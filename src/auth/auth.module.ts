import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { PolicyModule } from '../policy/policy.module.js';
import { PolicyStore } from '../policy/policy.store.js';
import { DEFAULT_KEY_FETCH_LIMITS } from './key-document-fetch.js';
import { OidcAuthGuard } from './oidc-auth.guard.js';
import { RejectedTokenAudit } from './rejected-token-audit.js';
import { KEY_FETCH_LIMITS, TokenVerifier } from './token-verifier.js';

export const AUTH_DISABLED_WARNING =
  'OIDC authentication is OFF (ENABLE_OIDC_AUTH=false): every request acts as local-user. ' +
  'Never run this in production.';

/**
 * OidcAuthGuard and what it needs. The root module registers the guard globally (APP_GUARD, between
 * the two rate limits), so every route needs a valid OIDC bearer token of an issuer the policy
 * trusts unless it is marked `@Public()`. Needs APP_CONFIG from a global module.
 */
@Module({
  imports: [PolicyModule, AuditModule],
  providers: [
    TokenVerifier,
    RejectedTokenAudit,
    { provide: KEY_FETCH_LIMITS, useValue: DEFAULT_KEY_FETCH_LIMITS },
    OidcAuthGuard,
  ],
  exports: [OidcAuthGuard],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthModule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly policy: PolicyStore,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.auth.enabled) {
      this.logger.warn(AUTH_DISABLED_WARNING);
      return;
    }
    const issuers = this.policy.current().issuers;
    if (issuers.length === 0) {
      this.logger.warn('OIDC authentication is on but no issuer is trusted: every token is refused');
      return;
    }
    const trusted = issuers.map((issuer) => `${issuer.name} (${issuer.issuer})`).join(', ');
    this.logger.log(`OIDC authentication is on; trusted issuers: ${trusted}`);
  }
}
