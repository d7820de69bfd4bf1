import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app-config.js';
import { isLoopbackHost } from './env-reader.js';

export const UNAUTHENTICATED_NETWORK_WARNING =
  'Listening beyond loopback WITHOUT authentication (ENABLE_OIDC_AUTH=false, ALLOW_UNAUTHENTICATED_NETWORK=true): ' +
  'anyone who reaches this service acts as local-user and gets runner credentials for the org.';
/** Repeated so that a service left like this keeps saying so in the recent log, not only at start. */
export const UNAUTHENTICATED_NETWORK_REMINDER_MS = 60 * 60 * 1000;

export const TRUST_PROXY_WARNING =
  'TRUST_PROXY=true believes every X-Forwarded-For entry: any client can forge the source IP the audit trail ' +
  'records. Set TRUST_PROXY to the number of proxies in front of the service (1 behind one ingress) or to their addresses or CIDRs.';

/**
 * The service's warnings about settings the configuration allows but an operator should not leave
 * unnoticed: listening off loopback with authentication off (only with ALLOW_UNAUTHENTICATED_NETWORK=true;
 * at start and every hour), and TRUST_PROXY=true (at start). Provided by the service's root module only:
 * the CLI neither listens nor reads X-Forwarded-For.
 */
@Injectable()
export class UnsafeSettingsWarnings implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Config');
  private timer: NodeJS.Timeout | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.app.trustProxy === true) this.logger.warn(TRUST_PROXY_WARNING);
    if (this.config.auth.enabled || isLoopbackHost(this.config.app.host)) return;
    this.logger.warn(UNAUTHENTICATED_NETWORK_WARNING);
    this.timer = setInterval(() => this.logger.warn(UNAUTHENTICATED_NETWORK_WARNING), UNAUTHENTICATED_NETWORK_REMINDER_MS);
    // A reminder never keeps the process alive.
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
