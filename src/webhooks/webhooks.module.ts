import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config.js';
import { RunnersModule } from '../runners/runners.module.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

/**
 * GitHub App webhooks (POST /api/v1/webhooks/github), when GITHUB_WEBHOOK_SECRET is set. Without
 * it the module is empty: the route does not exist and answers 404 like any unknown path, never an
 * open endpoint.
 */
@Module({})
export class WebhooksModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.github.webhookSecret === undefined) return { module: WebhooksModule };
    return {
      module: WebhooksModule,
      imports: [TypeOrmModule.forFeature([WebhookDeliveryEntity]), RunnersModule],
      controllers: [WebhooksController],
      providers: [WebhookDeliveriesRepository, WebhooksService],
    };
  }
}
