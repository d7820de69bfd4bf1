import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { SchedulerLeaseEntity } from './scheduler-lease.entity.js';

/**
 * Leases on scheduled jobs, in the database every instance shares, so that each tick of a job runs
 * on one instance only. All times are the database's (`now()`), so the instances' clocks do not
 * matter. A lease row needs no held connection, unlike a session-level advisory lock.
 */
@Injectable()
export class JobLeaseRepository {
  constructor(@InjectRepository(SchedulerLeaseEntity) private readonly leases: Repository<SchedulerLeaseEntity>) {}

  /**
   * Takes the job's lease for `leaseMs` when nobody holds it and it has not started in the last
   * `minGapMs` (another instance already ran this tick). One statement: of several instances
   * trying at once, exactly one gets it.
   */
  async tryAcquire(job: string, holder: string, options: { leaseMs: number; minGapMs: number }): Promise<boolean> {
    const rows: { job: string }[] = await this.leases.query(
      `INSERT INTO scheduler_leases (job, holder, leased_until, last_started_at)
       VALUES ($1, $2, now() + make_interval(secs => $3 / 1000.0), now())
       ON CONFLICT (job) DO UPDATE
          SET holder = EXCLUDED.holder, leased_until = EXCLUDED.leased_until, last_started_at = EXCLUDED.last_started_at
        WHERE scheduler_leases.leased_until <= now()
          AND (scheduler_leases.last_started_at IS NULL
               OR scheduler_leases.last_started_at <= now() - make_interval(secs => $4 / 1000.0))
       RETURNING job`,
      [job, holder, options.leaseMs, options.minGapMs],
    );
    return rows.length === 1;
  }

  /** Extends a lease the holder still has; false when it lost it (it ran out and was taken). */
  async renew(job: string, holder: string, leaseMs: number): Promise<boolean> {
    const [, affected]: [unknown, number] = await this.leases.query(
      `UPDATE scheduler_leases SET leased_until = now() + make_interval(secs => $3 / 1000.0)
        WHERE job = $1 AND holder = $2`,
      [job, holder, leaseMs],
    );
    return affected === 1;
  }

  /** The job's lease row as it is now (who holds it, until when), or null when no run ever started. */
  find(job: string): Promise<SchedulerLeaseEntity | null> {
    return this.leases.findOne({ where: { job } });
  }

  /** Gives the lease back at the end of a run; the job's last start still spaces the next tick. */
  async release(job: string, holder: string): Promise<void> {
    await this.leases.query(
      `UPDATE scheduler_leases SET holder = NULL, leased_until = now(), last_finished_at = now()
        WHERE job = $1 AND holder = $2`,
      [job, holder],
    );
  }
}
