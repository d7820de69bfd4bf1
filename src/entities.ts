import { AuditEventEntity } from './audit/audit-event.entity.js';
import { GithubRateLimitEntity } from './github/github-rate-limit.entity.js';
import { ForeignRunnerEntity } from './runners/reconciliation/foreign-runner.entity.js';
import { SchedulerLeaseEntity } from './runners/reconciliation/scheduler-lease.entity.js';
import { RunnerEntity } from './runners/runner.entity.js';
import { SuspensionEntity } from './suspensions/suspension.entity.js';
import { WebhookDeliveryEntity } from './webhooks/webhook-delivery.entity.js';

/**
 * Every table's entity, for tools that build a DataSource outside Nest (the check that the
 * migrations and the entities agree). Inside Nest each module registers its own.
 */
export const ENTITIES = [
  RunnerEntity,
  AuditEventEntity,
  SchedulerLeaseEntity,
  SuspensionEntity,
  GithubRateLimitEntity,
  WebhookDeliveryEntity,
  ForeignRunnerEntity,
];
