import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { DatabaseHealthIndicator } from './database-health.indicator.js';
import { HEALTH_PATH } from '../common/api.js';
import { Draining } from './draining.service.js';
import { PolicyHealthIndicator } from './policy-health.indicator.js';

@ApiTags('health')
@Controller(HEALTH_PATH)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly policy: PolicyHealthIndicator,
    private readonly draining: Draining,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({
    operationId: 'checkHealth',
    summary:
      'Liveness, database reachability, the access policy in force with its last failed reload, and 503 once the ' +
      'service is shutting down (no auth)',
  })
  async checkHealth(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    try {
      return await this.check();
    } catch (error) {
      // Terminus throws its result as a 503: answer it as it is (which check is down, and why),
      // not as the error shape of the API.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return error.getResponse() as HealthCheckResult;
    }
  }

  private check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.check('database'),
      () => this.policy.check('policy'),
      // Down from the first moment of a shutdown: new requests go elsewhere while these finish.
      () => this.draining.check('shutdown'),
    ]);
  }
}
