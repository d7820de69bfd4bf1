import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds; an API answer is milliseconds, a GitHub-bound one up to the request deadline (15 s). */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
const RECONCILIATION_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What a gauge reads from the database when scraped; undefined when it could not be read. */
export type RunnerCounts = () => Promise<{ status: string; kind: string; count: number }[] | undefined>;

/**
 * Every metric the service exposes, in one registry per application (tests start several in one
 * process). The names are a contract with dashboards: rts_…, and no label carries a runner name, a
 * user or an id.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'rts_http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  readonly provisions = new Counter({
    name: 'rts_provisions_total',
    help: 'Provisioning attempts by kind (jit, registration_token), outcome (succeeded; denied: refused before a runner was reserved; failed) and error code',
    labelNames: ['kind', 'outcome', 'code'] as const,
    registers: [this.registry],
  });

  readonly githubRequests = new Counter({
    name: 'rts_github_requests_total',
    help: "Requests to GitHub's API by operation and HTTP status (0: no answer)",
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });

  readonly githubRateLimitRemaining = new Gauge({
    name: 'rts_github_rate_limit_remaining',
    help: "Requests left in the App's GitHub rate limit window, from GitHub's last answer",
    registers: [this.registry],
  });

  readonly githubRateLimitReset = new Gauge({
    name: 'rts_github_rate_limit_reset_timestamp_seconds',
    help: "When the App's GitHub rate limit window resets (Unix time), from GitHub's last answer",
    registers: [this.registry],
  });

  readonly reconciliationRuns = new Counter({
    name: 'rts_reconciliation_runs_total',
    help: 'Sync and cleanup runs by job and outcome (succeeded, stopped early, failed, skipped)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly reconciliationDuration = new Histogram({
    name: 'rts_reconciliation_duration_seconds',
    help: 'How long sync and cleanup runs took',
    labelNames: ['job'] as const,
    buckets: RECONCILIATION_BUCKETS,
    registers: [this.registry],
  });

  readonly reconciliationLastSuccess = new Gauge({
    name: 'rts_reconciliation_last_success_timestamp_seconds',
    help: 'When a sync or cleanup last succeeded on this instance (Unix time)',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  readonly schedulerLeaseHeld = new Gauge({
    name: 'rts_scheduler_lease_held',
    help: "1 while this instance holds the job's scheduler lease, else 0",
    labelNames: ['job'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'rts_webhook_deliveries_total',
    help: 'GitHub webhook deliveries by event and outcome',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly runnerHijacks = new Counter({
    name: 'rts_runner_hijacks_total',
    help: 'Runners bound to one workflow run that started a job of another run',
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'rts_auth_failures_total',
    help: 'Requests refused authentication, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly foreignRunners = new Gauge({
    name: 'rts_foreign_runners',
    help: "Runners in the org that this service did not issue, as of the last sync",
    registers: [this.registry],
  });

  private runnerCounts: RunnerCounts | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'rts_runners',
      help: "Runners this service issued, by status and kind, read from the database when scraped",
      labelNames: ['status', 'kind'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await metrics.runnerCounts?.();
        // Unreadable (the database is down): the series are left out rather than shown as zero.
        this.reset();
        for (const { status, kind, count } of counts ?? []) this.set({ status, kind }, count);
      },
    });
  }

  /** The runners module tells the gauge how to count (this module knows no tables). */
  countRunnersWith(counts: RunnerCounts): void {
    this.runnerCounts = counts;
  }

  /** The text a Prometheus scrape gets, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
