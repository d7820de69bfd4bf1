import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_OUTCOMES, type AuditEventEntity, type AuditOutcome } from './audit-event.entity.js';

/** One audit event as `export-audit-log` writes it and the admin API answers it: snake_case, times in ISO 8601 (UTC). */
export class AuditEventExportDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, format: 'date-time' })
  occurred_at: string;

  @ApiProperty({ description: "The actor's display name (the user claim, or system:<component>)", example: 'alice@example.com' })
  actor: string;

  @ApiProperty({ description: "The actor's token iss (system for the CLI and the scheduler)" })
  actor_issuer: string;

  @ApiProperty({ description: "The actor's token sub (the component for system actors)" })
  actor_subject: string;

  @ApiProperty({ description: 'What was done: provision_jit, provision, replace, refresh, delete, sync, cleanup, suspend_identity, …' })
  action: string;

  @ApiProperty({ enum: AUDIT_OUTCOMES })
  outcome: AuditOutcome;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  runner_id: string | null;

  @ApiProperty({ type: String, nullable: true })
  runner_name: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The HTTP request id (x-request-id)' })
  request_id: string | null;

  @ApiProperty({ type: String, nullable: true })
  source_ip: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What else the event records (never a credential: a SHA-256 fingerprint at most)',
  })
  details: Record<string, unknown>;
}

export function toAuditEventExport(event: AuditEventEntity): AuditEventExportDto {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    actor: event.actor,
    actor_issuer: event.actorIssuer,
    actor_subject: event.actorSubject,
    action: event.action,
    outcome: event.outcome,
    runner_id: event.runnerId,
    runner_name: event.runnerName,
    request_id: event.requestId,
    source_ip: event.sourceIp,
    details: event.details,
  };
}
