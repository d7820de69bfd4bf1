import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig, type RateLimitSettings } from '../config/app-config.js';
import { BoundedThrottlerStorage } from './bounded-throttler.storage.js';
import { ClientIpRateLimitGuard, IDENTITY_LIMIT, IdentityRateLimitGuard, IP_LIMIT } from './rate-limit.guards.js';

const ONE_MINUTE_MS = 60_000;

/** Both limits, each off at 0; the library's X-RateLimit-*-ip headers are left out (Retry-After says it). */
function throttlerOptions(settings: RateLimitSettings): ThrottlerModuleOptions {
  return {
    throttlers: [
      { name: IP_LIMIT, ttl: ONE_MINUTE_MS, limit: settings.perIpPerMinute },
      { name: IDENTITY_LIMIT, ttl: ONE_MINUTE_MS, limit: settings.perIdentityPerMinute },
    ],
    storage: new BoundedThrottlerStorage(),
    setHeaders: false,
  };
}

function describeLimit(perMinute: number, who: string): string {
  return perMinute > 0 ? `${perMinute} requests a minute per ${who}` : `no limit per ${who}`;
}

/**
 * The two rate limits (RATE_LIMIT_PER_IP_PER_MINUTE, RATE_LIMIT_PER_IDENTITY_PER_MINUTE), counted in
 * this instance's memory. Exports the guards; the root module registers them around authentication.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => throttlerOptions(config.rateLimit),
    }),
  ],
  providers: [ClientIpRateLimitGuard, IdentityRateLimitGuard],
  exports: [ClientIpRateLimitGuard, IdentityRateLimitGuard],
})
export class RateLimitModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(RateLimitModule.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    const { perIpPerMinute, perIdentityPerMinute } = this.config.rateLimit;
    this.logger.log(
      `Rate limits: ${describeLimit(perIpPerMinute, 'client address')}, ${describeLimit(perIdentityPerMinute, 'identity')}` +
        (perIpPerMinute > 0 || perIdentityPerMinute > 0 ? ' (counted per instance)' : ''),
    );
  }
}
