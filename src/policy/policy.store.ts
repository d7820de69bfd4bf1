import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { Policy } from './policy.types.js';

/**
 * Holds the policy in force. SKELETON: builds the one-issuer policy of the OIDC_* shorthand; the
 * loader (POLICY_FILE, validation, reload on SIGHUP and file change) replaces this body.
 */
@Injectable()
export class PolicyStore {
  private policy: Policy;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const auth = config.auth;
    this.policy = {
      source: null,
      issuers: auth.enabled
        ? [
            {
              name: 'default',
              issuer: auth.issuer,
              audiences: [auth.audience],
              jwksUrl: auth.jwksUrl || undefined,
              algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
              displayClaim: auth.userClaim,
              maxTokenLifetimeSeconds: 3600,
              jwksCooldownSeconds: 30,
              clockToleranceSeconds: auth.clockToleranceSeconds,
              publicIssuer: auth.issuer === 'https://token.actions.githubusercontent.com',
            },
          ]
        : [],
      rules: null,
      loadedAt: new Date(),
    };
  }

  /** The policy in force now. Read it per request: a reload replaces it. */
  current(): Policy {
    return this.policy;
  }
}
