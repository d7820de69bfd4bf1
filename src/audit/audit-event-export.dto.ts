import type { AuditEventEntity, AuditOutcome } from './audit-event.entity.js';

/** One audit event as `export-audit-log` writes it: snake_case, times in ISO 8601 (UTC). */
export class AuditEventExportDto {
  id: string;
  occurred_at: string;
  /** The actor's display name (the user claim, or system:<component>). */
  actor: string;
  actor_issuer: string;
  actor_subject: string;
  action: string;
  outcome: AuditOutcome;
  runner_id: string | null;
  runner_name: string | null;
  request_id: string | null;
  source_ip: string | null;
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
