import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Metrics } from '../metrics/metrics.js';
import { RunnersRepository } from './runners.repository.js';

/** Gives the rts_runners gauge its count, read from the table when Prometheus scrapes. */
@Injectable()
export class RunnerMetrics implements OnModuleInit {
  private readonly logger = new Logger(RunnerMetrics.name);

  constructor(
    private readonly metrics: Metrics,
    private readonly runners: RunnersRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.countRunnersWith(async () => {
      try {
        return await this.runners.countByStatusAndKind();
      } catch (error) {
        this.logger.warn(`Could not count runners for the metrics: ${(error as Error).message}`);
        return undefined;
      }
    });
  }
}
