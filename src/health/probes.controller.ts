import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator.js';
import { LIVENESS_PATH, READINESS_PATH } from '../common/api.js';
import { LivenessResponseDto, ReadinessResponseDto, toReadinessResponse } from './probe-response.dto.js';
import { ReadinessService } from './readiness.service.js';

/** Kubernetes-style probes: liveness (the process answers) and readiness (it can serve). */
@ApiTags('health')
@Public()
@Controller()
export class ProbesController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get(LIVENESS_PATH)
  @ApiOperation({
    operationId: 'checkLiveness',
    summary: 'Liveness: the process answers (no auth). Checks nothing else, and stays 200 through a shutdown until the process exits',
  })
  @ApiOkResponse({ type: LivenessResponseDto })
  checkLiveness(): LivenessResponseDto {
    return { status: 'ok' };
  }

  @Get(READINESS_PATH)
  @ApiOperation({
    operationId: 'checkReadiness',
    summary:
      'Readiness: the database answers, its migrations are current, the access policy is loaded, and the service is ' +
      'not shutting down (no auth). GitHub is not checked',
  })
  @ApiOkResponse({ type: ReadinessResponseDto, description: 'Ready: every check is ok' })
  @ApiServiceUnavailableResponse({ type: ReadinessResponseDto, description: 'Not ready: the checks that failed are named' })
  async checkReadiness(@Res({ passthrough: true }) response: Response): Promise<ReadinessResponseDto> {
    const readiness = await this.readiness.check();
    if (!readiness.ready) response.status(HttpStatus.SERVICE_UNAVAILABLE);
    return toReadinessResponse(readiness);
  }
}
