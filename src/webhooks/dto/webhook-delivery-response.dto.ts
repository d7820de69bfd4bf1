import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_EVENT_OUTCOMES, type JobEventOutcome } from '../../runners/job-events/runner-job-events.service.js';
import type { RunnerRemovalOutcome } from '../../runners/runners.service.js';

/** What a verified delivery came to, besides what its workflow_job event did. */
export const DELIVERY_OUTCOMES = ['duplicate', 'pong'] as const;
export type WebhookOutcome = (typeof DELIVERY_OUTCOMES)[number] | JobEventOutcome;
/** Every outcome, each a stable string (the delivery metrics count by it). */
export const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = [...DELIVERY_OUTCOMES, ...JOB_EVENT_OUTCOMES];

const REMOVAL_OUTCOMES: RunnerRemovalOutcome[] = ['deleted', 'busy', 'failed', 'not-live'];

export class WebhookDeliveryResponseDto {
  @ApiProperty({ description: 'X-GitHub-Delivery', example: '72d3162e-cc78-11e3-81ab-4c9367dc0958' })
  delivery_id: string;

  @ApiProperty({ description: 'X-GitHub-Event', example: 'workflow_job' })
  event: string;

  @ApiProperty({ type: String, nullable: true, description: "The payload's action (in_progress, completed…), when it has one", example: 'in_progress' })
  action: string | null;

  @ApiProperty({
    enum: WEBHOOK_OUTCOMES,
    description:
      'What the delivery came to. duplicate: this delivery id was already acted on (nothing done); pong: a ping; ' +
      'ignored: an event or action that says nothing about runners; the others: what a workflow_job event did ' +
      '(see the README, "GitHub webhooks")',
  })
  outcome: WebhookOutcome;

  @ApiPropertyOptional({
    enum: REMOVAL_OUTCOMES,
    description:
      'Set when the event called for removing a runner (a bind_to_run runner that took another run\'s job): deleted; ' +
      'busy (GitHub refuses while the job runs: removed after it); failed (tried again by the cleanup); not-live (already gone)',
  })
  runner_removal?: RunnerRemovalOutcome;
}
