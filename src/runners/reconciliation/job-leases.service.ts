import { Injectable, Logger } from '@nestjs/common';
import { JobLeaseRepository } from './job-lease.repository.js';

/**
 * A run holds its lease this long and renews it every third of that while it runs, so a crashed
 * instance (or a killed CLI) holds a job for at most a minute.
 */
export const LEASE_MS = 60_000;

/** Who holds a job's lease, as the lease table says. */
export interface LeaseHolder {
  job: string;
  /** The instance (host:pid:random, `cli@host:pid:random` for the CLI); null between runs. */
  holder: string | null;
  leasedUntil: Date;
}

/** What asking to run a job under its lease came to: its result, or the lease it could not take. */
export type LeasedRun<T> = { ran: true; result: T } | { ran: false; lease: LeaseHolder | null };

/**
 * Runs a reconciliation job (sync-github, cleanup-stale-runners) under its lease, for the scheduler
 * and the CLI alike, so that one run of each job at a time goes on across every instance and every
 * operator's terminal. The lease is renewed while the run goes on and given back at its end.
 */
@Injectable()
export class JobLeases {
  private readonly logger = new Logger(JobLeases.name);

  constructor(private readonly leases: JobLeaseRepository) {}

  /**
   * Takes the job's lease (not while another holder has it, nor within `minGapMs` of the job's last
   * start) and runs `work`. The signal `work` gets fires when `stop` does, or when the lease is lost
   * (it ran out and another instance took it): work stops between two batches then. Throws what
   * `work` throws, and when the lease table cannot be reached.
   */
  async runExclusive<T>(
    job: string,
    holder: string,
    options: { minGapMs: number; stop?: AbortSignal },
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<LeasedRun<T>> {
    if (!(await this.leases.tryAcquire(job, holder, { leaseMs: LEASE_MS, minGapMs: options.minGapMs }))) {
      const row = await this.leases.find(job);
      return { ran: false, lease: row && { job, holder: row.holder, leasedUntil: row.leasedUntil } };
    }
    const lost = new AbortController();
    const heartbeat = setInterval(() => {
      this.leases.renew(job, holder, LEASE_MS).then(
        (held) => {
          if (held) return;
          this.logger.warn(`${job}: lost the lease while running; stopping this run`);
          lost.abort();
        },
        (error: Error) => this.logger.warn(`${job}: could not renew the lease: ${error.message}`),
      );
    }, LEASE_MS / 3);
    try {
      const signal = options.stop ? AbortSignal.any([lost.signal, options.stop]) : lost.signal;
      return { ran: true, result: await work(signal) };
    } finally {
      clearInterval(heartbeat);
      await this.leases.release(job, holder).catch((error: Error) => {
        this.logger.warn(`${job}: could not release the lease (it runs out by itself): ${error.message}`);
      });
    }
  }
}
