import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/**
 * Whether the service is shutting down. From the moment it is, /health and /readyz answer 503, so a
 * load balancer or Kubernetes stops sending new requests while the ones under way finish.
 */
@Injectable()
export class Draining {
  private since: Date | null = null;

  constructor(private readonly indicator: HealthIndicatorService) {}

  start(): void {
    this.since ??= new Date();
  }

  get active(): boolean {
    return this.since !== null;
  }

  check(key: string) {
    const check = this.indicator.check(key);
    return this.since ? check.down({ draining_since: this.since.toISOString() }) : check.up();
  }
}
