import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const UQ_FOREIGN_RUNNERS_GITHUB_RUNNER_ID = 'UQ_foreign_runners_github_runner_id';

/** GitHub's runner ids are integers; PostgreSQL's bigint arrives as a string from `pg`. */
const bigintToNumber = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/**
 * A runner the sync found in the org that this service did not issue and that KNOWN_RUNNER_NAMES
 * does not match. Its first sighting is the one that is reported (an audit event, a warning), once
 * across syncs and instances; later syncs only move last_seen_at.
 */
@Entity({ name: 'foreign_runners' })
@Index(UQ_FOREIGN_RUNNERS_GITHUB_RUNNER_ID, ['githubRunnerId'], { unique: true })
@Index('IDX_foreign_runners_first_seen_at', ['firstSeenAt'])
export class ForeignRunnerEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_foreign_runners' })
  id: string;

  @Column({ name: 'github_runner_id', type: 'bigint', transformer: bigintToNumber })
  githubRunnerId: number;

  /** GitHub's name for it, as last seen (not bound by this service's naming rules). */
  @Column({ type: 'text' })
  name: string;

  /** GitHub's status when last seen: `online` or `offline`. */
  @Column({ type: 'text' })
  status: string;

  @Column({ type: 'boolean' })
  busy: boolean;

  @Column({ type: 'text', array: true })
  labels: string[];

  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' })
  firstSeenAt: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt: Date;

  /** When a complete listing no longer showed it as foreign (gone from GitHub, or now a known name); null while it is. */
  @Column({ name: 'gone_at', type: 'timestamptz', nullable: true })
  goneAt: Date | null;

  /** When this service removed it from GitHub (FOREIGN_RUNNERS=remove). */
  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt: Date | null;
}
