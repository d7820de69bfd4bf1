import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Actor } from '../auth/actor.js';
import { API_PREFIX } from '../common/api.js';
import { nextPageLink } from '../common/page-cursor.js';
import type { AdminRunnerResponseDto } from '../runners/dto/admin-runner-response.dto.js';
import { DEFAULT_PAGE_SIZE } from '../runners/dto/runner-fields.js';
import { ForeignRunnersService } from '../runners/reconciliation/foreign-runners.service.js';
import { RunnersService } from '../runners/runners.service.js';
import type { SuspensionListResponseDto } from '../suspensions/dto/suspension-response.dto.js';
import { suspensionTargetOf } from '../suspensions/suspension-target.js';
import { SuspensionsService } from '../suspensions/suspensions.service.js';
import type { AdminRunnerListResponseDto } from './dto/admin-runner-list-response.dto.js';
import type { AuditEventListResponseDto } from './dto/audit-event-list-response.dto.js';
import type { ForeignRunnerListResponseDto } from './dto/foreign-runner-list-response.dto.js';
import type { ResumeIdentityDto, SuspendIdentityDto } from './dto/identity-selector.dto.js';
import type { ListAdminRunnersQueryDto } from './dto/list-admin-runners-query.dto.js';
import type { ListAuditEventsQueryDto } from './dto/list-audit-events-query.dto.js';
import type { ListForeignRunnersQueryDto } from './dto/list-foreign-runners-query.dto.js';
import type { ResumeIdentityResponseDto, SuspendIdentityResponseDto } from './dto/suspension-outcome.dto.js';
import { KillSwitchService } from './kill-switch.service.js';

const ADMIN_PATH = `/${API_PREFIX}/admin`;

/**
 * The admin API's operations: each turns its request into a call of the service that owns the data,
 * and adds what only the API has (the link to the next page). Who may call them is AdminGuard's job.
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly runners: RunnersService,
    private readonly audit: AuditService,
    private readonly suspensions: SuspensionsService,
    private readonly killSwitch: KillSwitchService,
    private readonly foreignRunners: ForeignRunnersService,
  ) {}

  async listRunners(query: ListAdminRunnersQueryDto): Promise<AdminRunnerListResponseDto> {
    const page = await this.runners.listAllRunnersPage(query);
    const { owner, rule, status, label, limit } = query;
    const next = page.next_cursor && nextPageLink(`${ADMIN_PATH}/runners`, { owner, rule, status, label, limit }, page.next_cursor);
    return { ...page, next };
  }

  deleteRunner(actor: Actor, idOrName: string): Promise<AdminRunnerResponseDto> {
    return this.runners.deleteAnyRunner(actor, idOrName);
  }

  /** One page of the org's runners that this service did not issue, as the last sync found them. */
  async listForeignRunners(query: ListForeignRunnersQueryDto): Promise<ForeignRunnerListResponseDto> {
    const page = await this.foreignRunners.listForeignRunnersPage(query);
    const next = page.next_cursor && nextPageLink(`${ADMIN_PATH}/foreign-runners`, { limit: query.limit }, page.next_cursor);
    return { ...page, next };
  }

  /** One page of the audit trail, newest first, as export-audit-log orders it. */
  async listAuditEvents(query: ListAuditEventsQueryDto): Promise<AuditEventListResponseDto> {
    const filter = { since: query.since, eventType: query.event_type, user: query.user };
    const page = await this.audit.listEventsPage(filter, { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor });
    const filters = { since: query.since?.toISOString(), event_type: query.event_type, user: query.user, limit: query.limit };
    const next = page.next_cursor && nextPageLink(`${ADMIN_PATH}/audit-events`, filters, page.next_cursor);
    return { ...page, next };
  }

  suspendIdentity(actor: Actor, request: SuspendIdentityDto): Promise<SuspendIdentityResponseDto> {
    return this.killSwitch.suspend(actor, suspensionTargetOf(request), {
      removeRunners: request.remove_runners ?? false,
      reason: request.reason ?? null,
    });
  }

  resumeIdentity(actor: Actor, request: ResumeIdentityDto): Promise<ResumeIdentityResponseDto> {
    return this.killSwitch.resume(actor, suspensionTargetOf(request));
  }

  async listSuspensions(): Promise<SuspensionListResponseDto> {
    return { suspensions: await this.suspensions.list() };
  }
}
