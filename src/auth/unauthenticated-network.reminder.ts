import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { isLoopbackHost } from '../config/env-reader.js';

export const UNAUTHENTICATED_NETWORK_WARNING =
  'Listening beyond loopback WITHOUT authentication (ENABLE_OIDC_AUTH=false, ALLOW_UNAUTHENTICATED_NETWORK=true): ' +
  'anyone who reaches this service acts as local-user and gets runner credentials for the org.';
/** Repeated so that a service left like this keeps saying so in the recent log, not only at start. */
export const UNAUTHENTICATED_NETWORK_REMINDER_MS = 60 * 60 * 1000;

/**
 * Warns at start and every hour while the service listens off loopback with authentication off, which
 * the configuration allows only when ALLOW_UNAUTHENTICATED_NETWORK=true.
 */
@Injectable()
export class UnauthenticatedNetworkReminder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  private timer: NodeJS.Timeout | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
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
