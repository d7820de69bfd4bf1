import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { type LeaseHolder, JobLeases } from '../runners/reconciliation/job-leases.service.js';
import { CliOutput } from './cli-output.service.js';
import { LeaseHeldError } from './cli-errors.js';
import { CLI_STOP_SIGNAL } from './stop-signal.js';

/** A lease that was let go between our try and our look at it is tried for again, this many times in all. */
const ACQUIRE_ATTEMPTS = 3;

/**
 * Runs sync-github and cleanup-stale-runners from the CLI under the lease the scheduler takes, so
 * that a command never runs beside the service's scheduled run of the same job, nor beside another
 * operator's. When another instance holds it, the command does nothing and says who holds it until when.
 */
@Injectable()
export class CliJobLease {
  /** This CLI process, as the lease table names it. */
  readonly holder = `cli@${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly jobs: JobLeases,
    private readonly output: CliOutput,
    @Inject(CLI_STOP_SIGNAL) private readonly stop: AbortSignal,
  ) {}

  /**
   * Runs `work` under the job's lease; its signal fires on Ctrl-C, SIGTERM or a lost lease. A
   * scheduled run a moment ago does not hold the command back (the operator asked for one now);
   * a run under way does: LeaseHeldError, with the holder also printed as JSON when `json`.
   */
  async run<T>(job: string, options: { json: boolean }, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let lease: LeaseHolder | null = null;
    for (let attempt = 1; attempt <= ACQUIRE_ATTEMPTS; attempt++) {
      const run = await this.jobs.runExclusive(job, this.holder, { minGapMs: 0, stop: this.stop }, work);
      if (run.ran) return run.result;
      lease = run.lease;
      if (lease?.holder && lease.leasedUntil.getTime() > Date.now()) break;
    }
    if (options.json) {
      this.output.json({
        job,
        ran: false,
        reason: 'lease_held',
        lease_holder: lease?.holder ?? null,
        leased_until: lease?.leasedUntil.toISOString() ?? null,
      });
    }
    throw new LeaseHeldError(describeHeldLease(job, lease));
  }
}

/** "sync-github is running elsewhere: HOLDER holds its lease until TIME (in 42 s). Nothing was done; …" */
export function describeHeldLease(job: string, lease: LeaseHolder | null): string {
  const seconds = lease ? Math.max(0, Math.ceil((lease.leasedUntil.getTime() - Date.now()) / 1000)) : 0;
  const held = lease?.holder
    ? `${lease.holder} holds its lease until ${lease.leasedUntil.toISOString()} (in ${seconds} s)`
    : 'another instance holds its lease';
  return (
    `${job} is running elsewhere: ${held}. Nothing was done; run it again once that run is over ` +
    '(a holder that died lets go when its lease runs out, within a minute)'
  );
}
