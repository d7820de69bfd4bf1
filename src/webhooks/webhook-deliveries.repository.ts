import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, type Repository } from 'typeorm';
import type { Transaction } from '../database/transactions.service.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';

/** The deliveries already acted on, by X-GitHub-Delivery. */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectRepository(WebhookDeliveryEntity) private readonly rows: Repository<WebhookDeliveryEntity>) {}

  /**
   * Records a delivery in the caller's transaction; false when it was already recorded less than
   * `memoryMs` ago (a redelivery, or a second copy). A copy arriving meanwhile waits for this
   * transaction, then finds it recorded, or (rolled back) records it itself.
   */
  async remember(tx: Transaction, deliveryId: string, event: string, memoryMs: number): Promise<boolean> {
    // An older record (not forgotten yet) counts as none: it is renewed, and the delivery is acted on.
    const rows: unknown[] = await tx.query(
      `INSERT INTO webhook_deliveries (delivery_id, event) VALUES ($1, $2)
       ON CONFLICT (delivery_id) DO UPDATE SET event = EXCLUDED.event, received_at = now()
        WHERE webhook_deliveries.received_at < now() - make_interval(secs => $3)
       RETURNING delivery_id`,
      [deliveryId, event, memoryMs / 1000],
    );
    return rows.length > 0;
  }

  /** Forgets the deliveries received before `cutoff`; answers how many. */
  async forgetBefore(cutoff: Date): Promise<number> {
    const result = await this.rows.delete({ receivedAt: LessThan(cutoff) });
    return result.affected ?? 0;
  }
}
