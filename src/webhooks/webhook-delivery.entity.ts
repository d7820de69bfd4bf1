import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** X-GitHub-Delivery is a GUID; anything longer is refused before it reaches the table. */
export const MAX_DELIVERY_ID_LENGTH = 100;

/**
 * A webhook delivery this service has acted on, by GitHub's X-GitHub-Delivery (the same on a
 * redelivery), so a second copy is recognised and ignored. Kept for a day.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('IDX_webhook_deliveries_received_at', ['receivedAt'])
export class WebhookDeliveryEntity {
  @PrimaryColumn({ name: 'delivery_id', type: 'varchar', length: MAX_DELIVERY_ID_LENGTH, primaryKeyConstraintName: 'PK_webhook_deliveries' })
  deliveryId: string;

  /** X-GitHub-Event: workflow_job, ping… */
  @Column({ type: 'varchar', length: 64 })
  event: string;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;
}
