import { Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OidcAuthGuard } from './oidc-auth.guard.js';

export const AUTH_DISABLED_WARNING =
  'OIDC authentication is OFF (ENABLE_OIDC_AUTH=false): every request acts as local-user. ' +
  'Never run this in production.';

/**
 * Secure by default: registers OidcAuthGuard globally, so every route needs a valid OIDC bearer
 * token unless it is marked `@Public()`. Needs APP_CONFIG from a global module.
 */
@Module({
  imports: [PassportModule],
  providers: [JwtStrategy, { provide: APP_GUARD, useClass: OidcAuthGuard }],
})
export class AuthModule implements OnModuleInit {
  private readonly logger = new Logger(AuthModule.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    const { enabled, issuer, audience } = this.config.auth;
    if (!enabled) {
      this.logger.warn(AUTH_DISABLED_WARNING);
      return;
    }
    this.logger.log(`OIDC authentication is on: issuer ${issuer}, audience ${audience}`);
  }
}
