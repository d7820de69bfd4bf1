import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
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
import { CreateJitRunnerDto } from './dto/create-jit-runner.dto.js';
import { JitRunnerResponseDto } from './dto/jit-runner-response.dto.js';
import { ListRunnersQueryDto } from './dto/list-runners-query.dto.js';
import { ProvisionRunnerDto } from './dto/provision-runner.dto.js';
import { ProvisionRunnerResponseDto } from './dto/provision-runner-response.dto.js';
import { RunnerListResponseDto, RunnerResponseDto } from './dto/runner-response.dto.js';
import { JitProvisioningService } from './provisioning/jit-provisioning.service.js';
import { RegistrationTokensService } from './provisioning/registration-tokens.service.js';
import { RunnersService } from './runners.service.js';

@ApiTags('runners')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, expired or invalid OIDC token', type: ApiErrorResponseDto })
@ApiDatabaseUnavailable()
@Controller('runners')
export class RunnersController {
  constructor(
    private readonly runners: RunnersService,
    private readonly jit: JitProvisioningService,
    private readonly registrationTokens: RegistrationTokensService,
  ) {}

  @Post('jit')
  @HttpCode(HttpStatus.CREATED)
  // The answer carries a credential: no cache, proxy or browser may keep it.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'provisionJit',
    summary: 'Issue a JIT config for one ephemeral runner (recommended)',
    description:
      'Registers an ephemeral runner with labels fixed by the server (system labels first) and returns its ' +
      'JIT config, to start with `./run.sh --jitconfig <encoded_jit_config>`. Send exactly one of runner_name ' +
      'and runner_name_prefix. Asking again for your own runner that is still pending replaces it.',
  })
  @ApiCreatedResponse({ type: JitRunnerResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a field breaks a rule (the message names it)', type: ApiErrorResponseDto })
  @ApiConflictResponse({ description: 'RUNNER_NAME_TAKEN: another runner holds the name', type: ApiErrorResponseDto })
  @ApiGithubErrors()
  provisionJit(@CurrentActor() actor: Actor, @Body() request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    return this.jit.provisionJit(actor, request);
  }

  @Post('provision')
  @HttpCode(HttpStatus.CREATED)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'provisionRunner',
    summary: 'Issue a registration token for one runner (legacy; prefer /runners/jit)',
    description:
      'Returns a registration token and the `./config.sh` command that registers the runner with it. ' +
      'The token is valid for an hour and GitHub lets it register any number of runners, with any labels: ' +
      'JIT (/runners/jit) is the safer choice. The runner is pending until it is seen on GitHub by name. ' +
      'Off when ENABLE_REGISTRATION_TOKENS=false.',
  })
  @ApiCreatedResponse({ type: ProvisionRunnerResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a field breaks a rule (the message names it)', type: ApiErrorResponseDto })
  @ApiForbiddenResponse({
    description: 'REGISTRATION_TOKENS_DISABLED: this service hands out JIT configs only (POST /runners/jit)',
    type: ApiErrorResponseDto,
  })
  @ApiConflictResponse({ description: 'RUNNER_NAME_TAKEN: another runner holds the name', type: ApiErrorResponseDto })
  @ApiGithubErrors()
  provisionRunner(@CurrentActor() actor: Actor, @Body() request: ProvisionRunnerDto): Promise<ProvisionRunnerResponseDto> {
    return this.registrationTokens.provisionRunner(actor, request);
  }

  @Get()
  @ApiOperation({
    operationId: 'listRunners',
    summary: 'List your runners, newest first, a page at a time',
    description: 'Deleted and failed runners are left out unless asked for with ?status=. Follow next_cursor for more.',
  })
  @ApiOkResponse({ type: RunnerListResponseDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a bad status, limit or cursor', type: ApiErrorResponseDto })
  listRunners(@CurrentActor() actor: Actor, @Query() query: ListRunnersQueryDto): Promise<RunnerListResponseDto> {
    return this.runners.listRunners(actor, query);
  }

  @Get(':idOrName')
  @ApiOperation({ operationId: 'getRunner', summary: 'One of your runners, by id or name' })
  @ApiParam({ name: 'idOrName', description: "The runner's id (uuid) or name" })
  @ApiOkResponse({ type: RunnerResponseDto })
  @ApiNotFoundResponse({ description: 'RUNNER_NOT_FOUND: no runner of yours has that id or name', type: ApiErrorResponseDto })
  getRunner(@CurrentActor() actor: Actor, @Param('idOrName') idOrName: string): Promise<RunnerResponseDto> {
    return this.runners.getRunner(actor, idOrName);
  }

  @Post(':idOrName/refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'refreshRunner',
    summary: "Read one of your runners' status from GitHub now",
    description:
      'online on GitHub becomes active, offline becomes offline (a runner that never connected stays pending); ' +
      'a runner GitHub no longer has becomes deleted, except a pending one inside the grace period.',
  })
  @ApiParam({ name: 'idOrName', description: "The runner's id (uuid) or name" })
  @ApiOkResponse({ type: RunnerResponseDto })
  @ApiNotFoundResponse({ description: 'RUNNER_NOT_FOUND: no runner of yours has that id or name', type: ApiErrorResponseDto })
  @ApiGithubErrors()
  refreshRunner(@CurrentActor() actor: Actor, @Param('idOrName') idOrName: string): Promise<RunnerResponseDto> {
    return this.runners.refreshRunner(actor, idOrName);
  }

  @Delete(':idOrName')
  @ApiOperation({
    operationId: 'deleteRunner',
    summary: 'Remove one of your runners from GitHub and mark it deleted',
    description: 'A runner GitHub no longer has counts as removed. A runner running a job is left as it is (409 RUNNER_BUSY).',
  })
  @ApiParam({ name: 'idOrName', description: "The runner's id (uuid) or name" })
  @ApiOkResponse({ type: RunnerResponseDto, description: 'The runner, now deleted' })
  @ApiNotFoundResponse({ description: 'RUNNER_NOT_FOUND: no runner of yours has that id or name', type: ApiErrorResponseDto })
  @ApiConflictResponse({
    description: 'RUNNER_BUSY: the runner is running a job on GitHub; nothing was changed, try again when it is done',
    type: ApiErrorResponseDto,
  })
  @ApiGithubErrors()
  deleteRunner(@CurrentActor() actor: Actor, @Param('idOrName') idOrName: string): Promise<RunnerResponseDto> {
    return this.runners.deleteRunner(actor, idOrName);
  }
}
