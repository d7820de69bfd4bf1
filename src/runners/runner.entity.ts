import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const RUNNER_STATUSES = ['pending', 'active', 'offline', 'deleted', 'failed'] as const;
/**
 * pending: credential issued, never seen online; active: online on GitHub; offline: seen, not online;
 * deleted: removed (terminal, kept for history); failed: GitHub refused to create it (terminal).
 */
export type RunnerStatus = (typeof RUNNER_STATUSES)[number];
/** Statuses that no longer hold the runner's name. */
export const TERMINAL_STATUSES: readonly RunnerStatus[] = ['deleted', 'failed'];

export const RUNNER_KINDS = ['jit', 'registration_token'] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/**
 * Why the service itself marked a runner deleted: a JIT runner that did not come online by its
 * expires_at (cleanup), one pending or offline for longer than the cleanup's hours, or one GitHub no
 * longer has (sync: an ephemeral runner whose job is done).
 */
export const DELETION_REASONS = ['never_started', 'stale', 'gone_from_github'] as const;
export type DeletionReason = (typeof DELETION_REASONS)[number];

/** Names the unique index so a violation can be told apart from other errors. */
export const UQ_RUNNERS_NAME_ACTIVE = 'UQ_runners_name_active';

/** GitHub's runner ids are integers; PostgreSQL's bigint arrives as a string from `pg`. */
const bigintToNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

@Entity({ name: 'runners' })
@Index(UQ_RUNNERS_NAME_ACTIVE, ['name'], { unique: true, where: `"status" NOT IN ('deleted', 'failed')` })
@Index('IDX_runners_owner_created_at', ['ownerIssuer', 'ownerSubject', 'createdAt'])
@Index('IDX_runners_status', ['status'])
@Index('IDX_runners_policy_rule', ['policyRule'])
@Index('IDX_runners_github_runner_id', ['githubRunnerId'])
@Check('CHK_runners_status', `"status" IN ('pending', 'active', 'offline', 'deleted', 'failed')`)
@Check('CHK_runners_kind', `"kind" IN ('jit', 'registration_token')`)
export class RunnerEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_runners' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  kind: RunnerKind;

  @Column({ type: 'varchar', length: 16 })
  status: RunnerStatus;

  @Column({ type: 'boolean', default: false })
  busy: boolean;

  @Column({ type: 'boolean' })
  ephemeral: boolean;

  @Column({ type: 'text', array: true })
  labels: string[];

  @Column({ name: 'runner_group_id', type: 'integer' })
  runnerGroupId: number;

  /** GitHub's id for the runner, once GitHub has answered. */
  @Column({ name: 'github_runner_id', type: 'bigint', nullable: true, transformer: bigintToNumber })
  githubRunnerId: number | null;

  /**
   * A registration-token row: the highest GitHub runner id this service knew when the token was
   * issued. GitHub's ids only grow, so a runner at or below it existed before the token and is not
   * this row's. Null for JIT rows and rows from before it was recorded.
   */
  @Column({ name: 'github_runner_id_floor', type: 'bigint', nullable: true, transformer: bigintToNumber })
  githubRunnerIdFloor: number | null;

  @Column({ name: 'owner_issuer', type: 'text' })
  ownerIssuer: string;

  @Column({ name: 'owner_subject', type: 'text' })
  ownerSubject: string;

  /** The owner's user claim at creation (OIDC_USER_CLAIM): what people and the CLI's --user see. */
  @Column({ name: 'owner_name', type: 'text' })
  ownerName: string;

  /** The policy rule that allowed the runner; null without a policy file. Rule-wide quotas count by it, and suspending a rule finds its runners by it. */
  @Column({ name: 'policy_rule', type: 'text', nullable: true })
  policyRule: string | null;

  /** The error code that failed the runner (status failed), e.g. GITHUB_UNAVAILABLE. */
  @Column({ name: 'failure_code', type: 'varchar', length: 64, nullable: true })
  failureCode: string | null;

  /** Why the runner failed, for people: our message (with GitHub's), never a credential. */
  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  /** When the issued credential should have been used by. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  /** The repository (owner/name) of the last job GitHub said the runner took (workflow_job webhooks). */
  @Column({ name: 'job_repository', type: 'text', nullable: true })
  jobRepository: string | null;

  /** The workflow run of that job. */
  @Column({ name: 'job_run_id', type: 'bigint', nullable: true, transformer: bigintToNumber })
  jobRunId: number | null;

  /** The run's attempt (1, then higher for re-runs); null when the event did not carry it. */
  @Column({ name: 'job_run_attempt', type: 'integer', nullable: true })
  jobRunAttempt: number | null;

  /** GitHub's id of that job. */
  @Column({ name: 'job_id', type: 'bigint', nullable: true, transformer: bigintToNumber })
  jobId: number | null;

  /** How the job ended (success, failure, cancelled…); null while it runs. */
  @Column({ name: 'job_conclusion', type: 'varchar', length: 32, nullable: true })
  jobConclusion: string | null;

  /**
   * Why the runner must go as soon as GitHub lets us remove it (it refuses while the runner is busy),
   * e.g. runner_hijack; null for a runner in good standing. The next completed job or cleanup removes it.
   */
  @Column({ name: 'removal_reason', type: 'varchar', length: 32, nullable: true })
  removalReason: string | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  /** Why the service itself marked the runner deleted; null when a request deleted it (the audit trail says who). */
  @Column({ name: 'deletion_reason', type: 'varchar', length: 32, nullable: true })
  deletionReason: DeletionReason | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
