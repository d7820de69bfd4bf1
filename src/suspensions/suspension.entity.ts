import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The unique indexes: one suspension per identity, one per rule. */
export const UQ_SUSPENSIONS_IDENTITY = 'UQ_suspensions_identity';
export const UQ_SUSPENSIONS_RULE = 'UQ_suspensions_rule';

/**
 * A suspension: every request of one identity (issuer + subject), or of everyone one policy rule
 * matched, is refused until an admin resumes it. Exactly one kind of target is set.
 */
@Entity({ name: 'suspensions' })
@Index(UQ_SUSPENSIONS_IDENTITY, ['issuer', 'subject'], { unique: true })
@Index(UQ_SUSPENSIONS_RULE, ['rule'], { unique: true })
@Check(
  'CHK_suspensions_target',
  `("issuer" IS NOT NULL AND "subject" IS NOT NULL AND "rule" IS NULL) OR ("issuer" IS NULL AND "subject" IS NULL AND "rule" IS NOT NULL)`,
)
export class SuspensionEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_suspensions' })
  id: string;

  /** The suspended identity's token `iss`, exactly as its tokens carry it. */
  @Column({ type: 'text', nullable: true })
  issuer: string | null;

  /** The suspended identity's token `sub`. */
  @Column({ type: 'text', nullable: true })
  subject: string | null;

  /** The suspended policy rule's name: everyone it matched. */
  @Column({ type: 'text', nullable: true })
  rule: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The display name of the actor who suspended it (an admin, or system:cli). */
  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  /** Why, for the operators; never shown to the suspended caller. */
  @Column({ type: 'text', nullable: true })
  reason: string | null;

  /** Its runners are to go: those busy at the time are removed by the cleanup once idle. */
  @Column({ name: 'remove_runners', type: 'boolean', default: false })
  removeRunners: boolean;
}
