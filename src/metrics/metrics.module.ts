import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { Metrics } from './metrics.js';

/** Metrics for every module; the HTTP service also serves them (the CLI's root imports only the provider). */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {
  static withEndpoint(): { module: typeof MetricsModule; controllers: (typeof MetricsController)[] } {
    return { module: MetricsModule, controllers: [MetricsController] };
  }
}
