import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * GitHub's rate limit for one App, as every instance of the service shares it: until when GitHub
 * asked to wait, and the budget it last reported when it did. Written only when a limit is observed.
 */
@Entity({ name: 'github_rate_limits' })
export class GithubRateLimitEntity {
  /** The App's ID (GITHUB_APP_ID). */
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_github_rate_limits' })
  appId: string;

  /** No instance calls GitHub before this time (the database's clock); in the past means open. */
  @Column({ name: 'blocked_until', type: 'timestamptz' })
  blockedUntil: Date;

  /** x-ratelimit-remaining when the limit was observed, if GitHub sent it. */
  @Column({ type: 'integer', nullable: true })
  remaining: number | null;

  /** x-ratelimit-reset when the limit was observed (GitHub's clock), if GitHub sent it. */
  @Column({ name: 'reset_at', type: 'timestamptz', nullable: true })
  resetAt: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
