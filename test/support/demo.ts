/**
 * The service as `npm run demo` starts it (main.ts with --demo): the demo's configuration, the
 * built-in GitHub simulator in this process, authentication off, listening on a real port of the
 * loopback interface. Here on a free port and on the test's own database (PGlite in memory, as the
 * demo, unless TEST_DATABASE_URL names a PostgreSQL server).
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/config.loader.js';
import { configureApp } from '../../src/configure-app.js';
import { GithubSimulator } from '../../src/github/simulator/github-simulator.js';
import { LineCollector } from './app.js';
import { testDatabaseConfig } from './database.js';

export interface Demo {
  /** Where the service answers, as RTS_URL: http://127.0.0.1:PORT */
  url: string;
  config: AppConfig;
  simulator: GithubSimulator;
  dataSource: DataSource;
  /** Every log line the service wrote. */
  logs: string[];
  close(): Promise<void>;
}

/** `env` holds the variables the demo is started with (a real demo reads them from the shell). */
export async function startDemo(env: Record<string, string> = {}): Promise<Demo> {
  const loaded = loadConfig(env, { demo: true });
  const [simulator, database] = await Promise.all([GithubSimulator.start(), testDatabaseConfig()]);
  const config: AppConfig = {
    ...loaded,
    database: database.config,
    github: { ...loaded.github, ...simulator.connectionSettings() },
  };
  const logs = new LineCollector();
  const app: INestApplication = await NestFactory.create(AppModule.forRoot(config, { schema: 'migrate', logDestination: logs }), {
    bufferLogs: true,
    abortOnError: false,
  });
  configureApp(app);
  await app.listen(0, config.app.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    url: `http://${config.app.host}:${port}`,
    config,
    simulator,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    logs: logs.lines,
    async close() {
      await app.close();
      await simulator.stop();
      await database.drop();
    },
  };
}
