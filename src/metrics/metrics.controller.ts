import { Controller, Get, Headers, HttpStatus, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Metrics } from './metrics.js';
import { METRICS_PATH, scrapeAllowed } from './scrape-access.js';

/** GET /metrics on the service's own port (absent when METRICS_PORT gives the metrics a port of their own). */
@ApiTags('health')
@Controller(METRICS_PATH)
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @Public()
  @ApiOperation({
    operationId: 'scrapeMetrics',
    summary: 'Prometheus metrics (no OIDC token; a bearer METRICS_TOKEN when one is set)',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: HttpStatus.OK, description: 'The Prometheus text format' })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() response: Response): Promise<void> {
    if (!scrapeAllowed(authorization, this.config.metrics.token)) {
      throw new DomainError(ERROR_CODES.UNAUTHENTICATED, 'Send the metrics token as Authorization: Bearer <token>');
    }
    const { contentType, body } = await this.metrics.scrape();
    response.status(HttpStatus.OK).type(contentType).send(body);
  }
}
