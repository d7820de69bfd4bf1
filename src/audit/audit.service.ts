import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../auth/actor.js';
import { AuditEventEntity, type AuditOutcome } from './audit-event.entity.js';

export interface AuditRecord {
  action: string;
  outcome: AuditOutcome;
  runnerId?: string | null;
  runnerName?: string | null;
  details?: Record<string, unknown>;
}

/** SHA-256 of a credential: enough to match a leaked secret against the trail, useless to an attacker. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/**
 * The audit trail. `record` writes through the caller's transaction, so an event commits with the
 * change it describes, and a failing audit insert fails the change.
 */
@Injectable()
export class AuditService {
  async record(manager: EntityManager, actor: Actor, event: AuditRecord): Promise<void> {
    const row: Partial<AuditEventEntity> = {
      actor: actor.name,
      actorIssuer: actor.issuer,
      actorSubject: actor.subject,
      action: event.action,
      outcome: event.outcome,
      runnerId: event.runnerId ?? null,
      runnerName: event.runnerName ?? null,
      requestId: actor.requestId ?? null,
      sourceIp: actor.sourceIp ?? null,
      details: event.details ?? {},
    };
    await manager.save(manager.create(AuditEventEntity, row));
  }
}
