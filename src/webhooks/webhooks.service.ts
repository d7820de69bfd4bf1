import { Inject, Injectable, Logger } from '@nestjs/common';
import { Actor } from '../auth/actor.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Transactions } from '../database/transactions.service.js';
import { Metrics } from '../metrics/metrics.js';
import { RunnerJobEventsService } from '../runners/job-events/runner-job-events.service.js';
import type { RunnerRemovalOutcome } from '../runners/runners.service.js';
import type { WebhookDeliveryResponseDto, WebhookOutcome } from './dto/webhook-delivery-response.dto.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { MAX_DELIVERY_ID_LENGTH } from './webhook-delivery.entity.js';
import { checkSignature, type SignatureCheck } from './webhook-signature.js';
import { readWorkflowJob, type WorkflowJobReading } from './workflow-job.payload.js';

/** A delivery as it arrived: the raw body and GitHub's headers. */
export interface IncomingDelivery {
  body: Buffer;
  signature?: string;
  event?: string;
  deliveryId?: string;
}

/** The request a delivery came in, for the audit trail and the log. */
export interface DeliveryOrigin {
  requestId?: string;
  sourceIp?: string;
}

/** The actor of everything a delivery changes. */
export const WEBHOOK_ACTOR = 'github-webhook';
/** Deliveries are remembered this long: a copy arriving later is acted on again. */
const DELIVERY_MEMORY_MS = 24 * 60 * 60_000;
/** Old deliveries are forgotten at most this often, by whichever delivery comes along. */
const FORGET_INTERVAL_MS = 10 * 60_000;
/** At most one line a minute about refused signatures, however many arrive: a flood writes a trickle. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

const KNOWN_EVENTS = new Set(['workflow_job', 'ping']);
const DELIVERY_ID_PATTERN = /^[A-Za-z0-9-]+$/;
const EVENT_PATTERN = /^[a-z_]{1,64}$/;

/**
 * POST /webhooks/github: checks each delivery's signature over its raw body (401 otherwise, and
 * nothing else is read), acts on it once (a delivery id seen in the last day is a duplicate), and
 * hands workflow_job events to the runners module, in one transaction with the delivery's record.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly secret: string;
  private lastForgotAt = 0;
  private refusals = { count: 0, lastLoggedAt: 0 };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly runnerJobs: RunnerJobEventsService,
    private readonly transactions: Transactions,
    private readonly metrics: Metrics,
  ) {
    // The module registers this service only when the secret is set.
    this.secret = config.github.webhookSecret ?? '';
  }

  async receiveDelivery(origin: DeliveryOrigin, delivery: IncomingDelivery): Promise<WebhookDeliveryResponseDto> {
    const signed = await checkSignature(this.secret, delivery.body, delivery.signature);
    if (signed.check !== 'valid') {
      // The event header is the sender's word until the signature holds: not a label value.
      this.metrics.webhookDeliveries.inc({ event: 'unverified', outcome: 'signature_invalid' });
      this.noteRefusal(signed.check, origin);
      throw new DomainError(
        ERROR_CODES.WEBHOOK_SIGNATURE_INVALID,
        'X-Hub-Signature-256 is missing or does not match the body: the webhook secret must be the one set in GITHUB_WEBHOOK_SECRET',
        { reason: signed.check },
      );
    }
    const deliveryId = requireHeader('X-GitHub-Delivery', delivery.deliveryId, DELIVERY_ID_PATTERN, MAX_DELIVERY_ID_LENGTH);
    const event = requireHeader('X-GitHub-Event', delivery.event, EVENT_PATTERN, 64);
    const reading = event === 'workflow_job' ? readWorkflowJob(parseJson(signed.text), deliveryId) : undefined;
    if (reading && 'problem' in reading) {
      throw new DomainError(ERROR_CODES.VALIDATION_FAILED, `The workflow_job payload is not as GitHub sends it: ${reading.problem}`);
    }

    const actor = Actor.system(WEBHOOK_ACTOR, origin);
    const result = await this.transactions.run(async (tx): Promise<{ outcome: WebhookOutcome; removeRunnerId?: string }> => {
      if (!(await this.deliveries.remember(tx, deliveryId, event, DELIVERY_MEMORY_MS))) return { outcome: 'duplicate' };
      if (event === 'ping') return { outcome: 'pong' };
      if (!reading || 'ignored' in reading) return { outcome: 'ignored' };
      return this.runnerJobs.applyWorkflowJob(tx, actor, reading.event);
    });
    // Only the events this service reads are labels of their own: any other name is `other`.
    this.metrics.webhookDeliveries.inc({ event: KNOWN_EVENTS.has(event) ? event : 'other', outcome: result.outcome });
    if (result.outcome === 'runner_hijack') this.metrics.runnerHijacks.inc();
    let removal: RunnerRemovalOutcome | undefined;
    if (result.removeRunnerId !== undefined) removal = await this.runnerJobs.removeIfMarked(actor, result.removeRunnerId);
    await this.forgetOldDeliveries();

    const action = actionOf(reading);
    this.logger.debug(`Delivery ${deliveryId} (${event}${action ? ` ${action}` : ''}): ${result.outcome}${removal ? `, removal ${removal}` : ''}`);
    return {
      delivery_id: deliveryId,
      event,
      action,
      outcome: result.outcome,
      ...(removal !== undefined && { runner_removal: removal }),
    };
  }

  /**
   * Refused signatures are neither audited nor logged one by one (anyone can send them): a line at
   * most once a minute, with how many there were.
   */
  private noteRefusal(check: Exclude<SignatureCheck, 'valid'>, origin: DeliveryOrigin): void {
    this.refusals.count++;
    const now = Date.now();
    if (now - this.refusals.lastLoggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { request_id: origin.requestId, source_ip: origin.sourceIp, reason: check, refused: this.refusals.count },
      `Refused ${this.refusals.count} webhook deliver${this.refusals.count === 1 ? 'y' : 'ies'} with a bad signature ` +
        `since the last such line (this one: ${check}, from ${origin.sourceIp ?? 'unknown'}); check the App's webhook secret if GitHub sent them`,
    );
    this.refusals = { count: 0, lastLoggedAt: now };
  }

  /** Now and then, the deliveries older than a day are forgotten; a failure only waits for the next time. */
  private async forgetOldDeliveries(): Promise<void> {
    const now = Date.now();
    if (now - this.lastForgotAt < FORGET_INTERVAL_MS) return;
    this.lastForgotAt = now;
    try {
      const forgotten = await this.deliveries.forgetBefore(new Date(now - DELIVERY_MEMORY_MS));
      if (forgotten > 0) this.logger.debug(`Forgot ${forgotten} webhook deliveries older than a day`);
    } catch (error) {
      this.logger.warn(`Could not forget old webhook deliveries: ${(error as Error).message}`);
    }
  }
}

function requireHeader(name: string, value: string | undefined, pattern: RegExp, maxLength: number): string {
  if (value === undefined || value.length > maxLength || !pattern.test(value)) {
    throw new DomainError(ERROR_CODES.VALIDATION_FAILED, `${name} is missing or malformed: GitHub sends it with every delivery`);
  }
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError(ERROR_CODES.VALIDATION_FAILED, 'The request body is not valid JSON');
  }
}

function actionOf(reading: WorkflowJobReading | undefined): string | null {
  if (!reading) return null;
  if ('event' in reading) return reading.event.action;
  return 'ignored' in reading ? reading.ignored : null;
}
