import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Actor } from '../auth/actor.js';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { ApiErrorResponseDto } from '../common/api-error-response.dto.js';
import { ApiDatabaseUnavailable, ApiGithubErrors } from '../common/api-github-errors.js';
import { AdminRunnerResponseDto } from '../runners/dto/admin-runner-response.dto.js';
import { SuspensionListResponseDto } from '../suspensions/dto/suspension-response.dto.js';
import { AdminGuard } from './admin.guard.js';
import { AdminService } from './admin.service.js';
import { AdminRunnerListResponseDto } from './dto/admin-runner-list-response.dto.js';
import { AuditEventListResponseDto } from './dto/audit-event-list-response.dto.js';
import { ForeignRunnerListResponseDto } from './dto/foreign-runner-list-response.dto.js';
import { ResumeIdentityDto, SuspendIdentityDto } from './dto/identity-selector.dto.js';
import { ListAdminRunnersQueryDto } from './dto/list-admin-runners-query.dto.js';
import { ListAuditEventsQueryDto } from './dto/list-audit-events-query.dto.js';
import { ListForeignRunnersQueryDto } from './dto/list-foreign-runners-query.dto.js';
import { ResumeIdentityResponseDto, SuspendIdentityResponseDto } from './dto/suspension-outcome.dto.js';

const SELECTOR_ERRORS =
  'VALIDATION_FAILED: send either issuer and subject, or rule (the message says which is missing or extra), or a field breaks its rule';

/** Every owner's runners, the audit trail and the kill switch, for identities the policy grants admin. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, expired or invalid OIDC token', type: ApiErrorResponseDto })
@ApiForbiddenResponse({
  description: 'FORBIDDEN: the policy does not grant your identity admin: true; IDENTITY_SUSPENDED: your identity or its rule is suspended',
  type: ApiErrorResponseDto,
})
@ApiDatabaseUnavailable()
@UseGuards(AdminGuard)
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('runners')
  @ApiOperation({
    operationId: 'adminListRunners',
    summary: "List every owner's runners, newest first, a page at a time",
    description:
      'Filters: owner (display name or subject), rule, status, label; each narrows the list. Deleted and failed ' +
      'runners are left out unless asked for with ?status=. Follow next_cursor for more.',
  })
  @ApiOkResponse({ type: AdminRunnerListResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a bad filter, limit or cursor', type: ApiErrorResponseDto })
  listRunners(@Query() query: ListAdminRunnersQueryDto): Promise<AdminRunnerListResponseDto> {
    return this.admin.listRunners(query);
  }

  @Delete('runners/:idOrName')
  @ApiOperation({
    operationId: 'adminDeleteRunner',
    summary: "Remove any owner's runner from GitHub and mark it deleted",
    description:
      'As DELETE /runners/{id}, for any owner: a runner GitHub no longer has counts as removed, one running a job is ' +
      'left as it is (409). The audit event names you as the actor and the owner in its details.',
  })
  @ApiParam({ name: 'idOrName', description: "The runner's id (uuid) or name" })
  @ApiOkResponse({ type: AdminRunnerResponseDto, description: 'The runner, now deleted' })
  @ApiNotFoundResponse({ description: 'RUNNER_NOT_FOUND: no runner has that id or name', type: ApiErrorResponseDto })
  @ApiConflictResponse({ description: 'RUNNER_BUSY: the runner is running a job on GitHub; nothing was changed', type: ApiErrorResponseDto })
  @ApiGithubErrors()
  deleteRunner(@CurrentActor() actor: Actor, @Param('idOrName') idOrName: string): Promise<AdminRunnerResponseDto> {
    return this.admin.deleteRunner(actor, idOrName);
  }

  @Get('foreign-runners')
  @ApiOperation({
    operationId: 'adminListForeignRunners',
    summary: "List the org's runners that this service did not issue, newest first, a page at a time",
    description:
      'As the last sync found them: on GitHub, not in the runners table (by GitHub id, or by name for a registration-token ' +
      'runner being adopted), and not matched by KNOWN_RUNNER_NAMES. Each got a foreign_runner audit event when first ' +
      'seen. Runners gone from GitHub (or removed with FOREIGN_RUNNERS=remove) are left out. Follow next_cursor for more.',
  })
  @ApiOkResponse({ type: ForeignRunnerListResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a bad limit or cursor', type: ApiErrorResponseDto })
  listForeignRunners(@Query() query: ListForeignRunnersQueryDto): Promise<ForeignRunnerListResponseDto> {
    return this.admin.listForeignRunners(query);
  }

  @Get('audit-events')
  @ApiOperation({
    operationId: 'adminListAuditEvents',
    summary: 'Read the audit trail, newest first, a page at a time',
    description:
      "export-audit-log's filters (since, event_type, user) and order (newest first). limit is the size of a page; " +
      'follow next_cursor for older events. Events recorded after the first page are not part of later pages.',
  })
  @ApiOkResponse({ type: AuditEventListResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a bad filter, limit or cursor', type: ApiErrorResponseDto })
  listAuditEvents(@Query() query: ListAuditEventsQueryDto): Promise<AuditEventListResponseDto> {
    return this.admin.listAuditEvents(query);
  }

  @Post('identities/suspend')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'suspendIdentity',
    summary: 'Suspend an identity, or everyone a policy rule matched',
    description:
      'From now on their requests are refused with 403 IDENTITY_SUSPENDED. With remove_runners: true their runners are ' +
      'removed from GitHub now, except those running a job (listed as busy). Suspending a suspended target changes ' +
      'nothing (already_suspended: true), but still removes the runners when asked. Runners busy now are removed by the ' +
        'next cleanup once idle.',
  })
  @ApiOkResponse({ type: SuspendIdentityResponseDto })
  @ApiBadRequestResponse({ description: SELECTOR_ERRORS, type: ApiErrorResponseDto })
  @ApiGithubErrors()
  suspendIdentity(@CurrentActor() actor: Actor, @Body() request: SuspendIdentityDto): Promise<SuspendIdentityResponseDto> {
    return this.admin.suspendIdentity(actor, request);
  }

  @Post('identities/resume')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'resumeIdentity',
    summary: 'Lift the suspension of an identity or a policy rule',
    description:
      'Removed runners stay removed. Resuming a target that is not suspended changes nothing and answers was_suspended: false.',
  })
  @ApiOkResponse({ type: ResumeIdentityResponseDto })
  @ApiBadRequestResponse({ description: SELECTOR_ERRORS, type: ApiErrorResponseDto })
  resumeIdentity(@CurrentActor() actor: Actor, @Body() request: ResumeIdentityDto): Promise<ResumeIdentityResponseDto> {
    return this.admin.resumeIdentity(actor, request);
  }

  @Get('suspensions')
  @ApiOperation({ operationId: 'listSuspensions', summary: 'List the suspensions in force, newest first' })
  @ApiOkResponse({ type: SuspensionListResponseDto })
  listSuspensions(): Promise<SuspensionListResponseDto> {
    return this.admin.listSuspensions();
  }
}
