import { CloudEvent, V1 } from 'cloudevents';
import type { AuditEventExportDto } from './audit-event-export.dto.js';

/**
 * The reverse-DNS prefix of every exported event's `type`, followed by `.<action>.<outcome>`
 * (`dev.runner-token-service.audit.provision_jit.succeeded`). Part of the export's contract: a
 * SIEM's rules match on it, so it does not change. A new action exports under its own name.
 */
export const AUDIT_CLOUD_EVENT_TYPE_PREFIX = 'dev.runner-token-service.audit';
/** `data` is the event as `export-audit-log --format json` writes it. */
export const AUDIT_CLOUD_EVENT_DATA_CONTENT_TYPE = 'application/json';

export function auditCloudEventType(action: string, outcome: string): string {
  return `${AUDIT_CLOUD_EVENT_TYPE_PREFIX}.${action}.${outcome}`;
}

/**
 * One audit event as a CloudEvents 1.0 event: `id` is the audit event's (with `source`, what a
 * consumer dedupes on), `time` when it happened, `subject` its runner (name, else id) when it has
 * one, and `data` the export shape, which holds no credential. Validated by the cloudevents
 * package as it is built: an event that breaks the spec throws its ValidationError.
 */
export function toAuditCloudEvent(event: AuditEventExportDto, source: string): CloudEvent<AuditEventExportDto> {
  return new CloudEvent<AuditEventExportDto>({
    specversion: V1,
    id: event.id,
    source,
    type: auditCloudEventType(event.action, event.outcome),
    time: event.occurred_at,
    subject: event.runner_name || event.runner_id || undefined,
    datacontenttype: AUDIT_CLOUD_EVENT_DATA_CONTENT_TYPE,
    data: event,
  });
}

/** The event in the CloudEvents JSON format (structured mode), on one line: NDJSON's unit. */
export function toCloudEventLine(event: CloudEvent<unknown>): string {
  // JSON.stringify escapes every newline inside strings: the one raw newline ends the line.
  return `${event.toString()}\n`;
}
