import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row per scheduled job: who runs it now and until when, and when it last started. With several
 * instances on one database, a tick runs only where this row could be taken (see JobLeaseRepository).
 */
@Entity({ name: 'scheduler_leases' })
export class SchedulerLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_scheduler_leases' })
  job: string;

  /** The instance running the job now (host:pid:random), or null between runs. */
  @Column({ type: 'text', nullable: true })
  holder: string | null;

  /** The holder's lease ends here unless it renews it; a crashed holder's lease simply runs out. */
  @Column({ name: 'leased_until', type: 'timestamptz' })
  leasedUntil: Date;

  @Column({ name: 'last_started_at', type: 'timestamptz', nullable: true })
  lastStartedAt: Date | null;

  @Column({ name: 'last_finished_at', type: 'timestamptz', nullable: true })
  lastFinishedAt: Date | null;
}
