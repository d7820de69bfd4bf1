import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_OUTCOMES = ['attempted', 'succeeded', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

@Entity({ name: 'audit_events' })
@Index('IDX_audit_events_occurred_at', ['occurredAt'])
@Index('IDX_audit_events_actor_subject', ['actorSubject'])
@Index('IDX_audit_events_runner_id', ['runnerId'])
@Check('CHK_audit_events_outcome', `"outcome" IN ('attempted', 'succeeded', 'denied', 'failed')`)
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_audit_events' })
  id: string;

  @CreateDateColumn({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  /** The actor's display name (user claim, or system:<component>). */
  @Column({ type: 'text' })
  actor: string;

  @Column({ name: 'actor_issuer', type: 'text' })
  actorIssuer: string;

  @Column({ name: 'actor_subject', type: 'text' })
  actorSubject: string;

  /** What was attempted: provision_jit, provision, refresh, delete, sync, cleanup… */
  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ name: 'runner_id', type: 'uuid', nullable: true })
  runnerId: string | null;

  @Column({ name: 'runner_name', type: 'varchar', length: 64, nullable: true })
  runnerName: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ name: 'source_ip', type: 'text', nullable: true })
  sourceIp: string | null;

  /** Anything else worth keeping; never a credential (a SHA-256 fingerprint at most). */
  @Column({ type: 'jsonb' })
  details: Record<string, unknown>;
}
