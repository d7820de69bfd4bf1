import { Body, Controller, Get, Header, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiGatewayTimeoutResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Actor } from '../auth/actor.js';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { ApiErrorResponseDto } from '../common/api-error-response.dto.js';
import { CreateJitRunnerDto } from './dto/create-jit-runner.dto.js';
import { JitRunnerResponseDto } from './dto/jit-runner-response.dto.js';
import { RunnerListResponseDto, RunnerResponseDto } from './dto/runner-response.dto.js';
import { RunnersService } from './runners.service.js';

@ApiTags('runners')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, expired or invalid OIDC token', type: ApiErrorResponseDto })
@Controller('runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

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
  @ApiBadGatewayResponse({
    description: 'GITHUB_UNAVAILABLE, GITHUB_PERMISSION_DENIED or GITHUB_REJECTED: GitHub failed or refused',
    type: ApiErrorResponseDto,
  })
  @ApiServiceUnavailableResponse({
    description: "GITHUB_RATE_LIMITED: GitHub's rate limit is exhausted (see Retry-After)",
    type: ApiErrorResponseDto,
  })
  @ApiGatewayTimeoutResponse({ description: 'GITHUB_TIMEOUT: GitHub did not answer in time', type: ApiErrorResponseDto })
  provisionJit(@CurrentActor() actor: Actor, @Body() request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    return this.runners.provisionJit(actor, request);
  }

  @Get()
  @ApiOperation({ operationId: 'listRunners', summary: 'List your runners (deleted and failed ones left out)' })
  @ApiOkResponse({ type: RunnerListResponseDto })
  listRunners(@CurrentActor() actor: Actor): Promise<RunnerListResponseDto> {
    return this.runners.listRunners(actor);
  }

  @Get(':idOrName')
  @ApiOperation({ operationId: 'getRunner', summary: 'One of your runners, by id or name' })
  @ApiParam({ name: 'idOrName', description: "The runner's id (uuid) or name" })
  @ApiOkResponse({ type: RunnerResponseDto })
  @ApiNotFoundResponse({ description: 'RUNNER_NOT_FOUND: no runner of yours has that id or name', type: ApiErrorResponseDto })
  getRunner(@CurrentActor() actor: Actor, @Param('idOrName') idOrName: string): Promise<RunnerResponseDto> {
    return this.runners.getRunner(actor, idOrName);
  }
}
