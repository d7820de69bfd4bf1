import { Writable } from 'node:stream';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import request from 'supertest';
import { loggerParams } from './common/logging.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { configureApp } from './configure-app.js';
import { MetricsModule } from './metrics/metrics.module.js';

@Controller('things')
class ThingsController {
  @Get()
  listThings(): { encoded_jit_config: string } {
    return { encoded_jit_config: 'a credential' };
  }
}

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

const settings = { port: 0, host: '127.0.0.1', logLevel: 'fatal', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0 } as const;

@Module({
  imports: [
    ConfigModule.forRoot({ app: settings, github: {} } as AppConfig),
    LoggerModule.forRoot(loggerParams(settings, quiet)),
    MetricsModule,
  ],
  controllers: [ThingsController],
})
class ThingsModule {}

describe('configureApp', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(ThingsModule, { logger: false, abortOnError: false });
    configureApp(app);
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('does not announce the framework', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/things').expect(200);
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('answers JSON without an ETag, which would be a hash of a credential', async () => {
    const response = await request(app.getHttpServer()).get('/api/v1/things').expect(200);
    expect(response.body).toEqual({ encoded_jit_config: 'a credential' });
    expect(response.headers.etag).toBeUndefined();
  });
});
