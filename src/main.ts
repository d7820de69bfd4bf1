import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigError, loadConfig, readEnvironment } from './config/config.loader.js';
import { API_PREFIX, HEALTH_PATH, LIVENESS_PATH, READINESS_PATH } from './common/api.js';
import { limitHeapGrowth } from './common/heap-growth.js';
import { DOCS_PATH, configureApp } from './configure-app.js';
import { CLOSE_TIMEOUT_MS, gracefulShutdown } from './shutdown.js';
import { describeDatabase } from './database/data-source-options.js';
import { collectGarbageNow, compileEmbeddedDatabaseOnce } from './database/embedded-database-memory.js';
import { SchemaNotReadyError } from './database/schema.js';
import type { GithubSimulator } from './github/simulator/github-simulator.js';
import { Metrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';

/**
 * The demo's GitHub: the built-in simulator, in this process, with a fresh App key. Loaded only
 * here, so a real deployment never loads the simulator's code.
 */
async function startSimulatedGithub(config: AppConfig): Promise<{ config: AppConfig; simulator: GithubSimulator }> {
  const { GithubSimulator } = await import('./github/simulator/github-simulator.js');
  const simulator = await GithubSimulator.start();
  return { config: { ...config, github: { ...config.github, ...simulator.connectionSettings() } }, simulator };
}

async function bootstrap(): Promise<void> {
  limitHeapGrowth();
  const demo = process.argv.includes('--demo');
  // The demo is self-contained: a real deployment's .env in the same folder must not steer it.
  let config = loadConfig(readEnvironment(process.cwd(), { dotenv: !demo }), { demo });
  let simulator: GithubSimulator | undefined;
  if (config.github.simulated) ({ config, simulator } = await startSimulatedGithub(config));

  // The embedded database is migrated at start; PostgreSQL must have been prepared with init-db.
  const embedded = config.database.kind === 'pglite';
  const schema = embedded ? 'migrate' : 'verify';
  if (embedded) compileEmbeddedDatabaseOnce();
  const app = await NestFactory.create(AppModule.forRoot(config, { schema }), { bufferLogs: true, abortOnError: false });
  configureApp(app);
  // What the embedded database's start left behind goes before the first request comes.
  if (embedded) await collectGarbageNow();
  if (simulator) {
    app.get(Logger).warn(`GitHub is SIMULATED: the built-in simulator at ${simulator.url} (org ${simulator.org})`);
  }
  await listen(app, config);
  const address = app.getHttpServer().address() as AddressInfo;
  const url = `http://${config.app.host === '0.0.0.0' ? 'localhost' : config.app.host}:${address.port}`;
  app
    .get(Logger)
    .log(
      `Runner Token Service listening on ${url}: API ${url}/${API_PREFIX}, docs ${url}/${DOCS_PATH}, ` +
        `probes ${url}/${LIVENESS_PATH} and ${url}/${READINESS_PATH}, health ${url}/${HEALTH_PATH}`,
    );
  app.get(Logger).log(`Database: ${describeDatabase(config.database)}; GitHub: ${config.github.apiUrl} (org ${config.github.org})`);
  const metricsServer = await serveMetricsApart(app, config);
  stopGracefullyOn(app, config, async () => {
    metricsServer?.close();
    await simulator?.stop();
  });
}

/** With METRICS_PORT, /metrics is served there (on HOST) instead of on the API's port. */
async function serveMetricsApart(app: INestApplication, config: AppConfig): Promise<Server | undefined> {
  const { port, token } = config.metrics;
  if (port === undefined) return undefined;
  try {
    const server = await startMetricsServer(app.get(Metrics), { host: config.app.host, port, token });
    app.get(Logger).log(`Metrics on http://${config.app.host}:${port}/metrics`);
    return server;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartError(`METRICS_PORT ${port} on ${config.app.host} is in use: stop what holds it, or change METRICS_PORT`);
    }
    throw error;
  }
}

/** The signals that stop the service; SIGHUP is not one of them (it reloads the access policy). */
const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT'];

/**
 * On SIGTERM (or SIGINT, SIGQUIT): drain, close, then what runs beside the app (the metrics port, the
 * demo's simulator), and exit 0 (1 when the shutdown itself failed). A second signal during the stop
 * changes nothing.
 */
function stopGracefullyOn(app: INestApplication, config: AppConfig, stopTheRest: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    gracefulShutdown(app, { drainMs: config.app.shutdownDrainSeconds * 1000, closeTimeoutMs: CLOSE_TIMEOUT_MS }, signal)
      .then(async () => {
        await stopTheRest();
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(`Shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      });
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, stop);
}

async function listen(app: INestApplication, config: AppConfig): Promise<void> {
  try {
    await app.listen(config.app.port, config.app.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartError(`Port ${config.app.port} on ${config.app.host} is in use: stop what holds it, or set PORT`);
    }
    throw error;
  }
}

/** A start-up failure whose message already says what to change. */
class StartError extends Error {}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
  } else if (error instanceof SchemaNotReadyError || error instanceof StartError) {
    process.stderr.write(`${error.message}\n`);
  } else if (['ECONNREFUSED', 'ENOTFOUND', '28P01', '3D000'].includes((error as { code?: string })?.code ?? '')) {
    process.stderr.write(`Cannot use the database (DATABASE_URL): ${(error as Error).message}\n`);
  } else {
    new NestLogger('Bootstrap').error(`Start failed: ${(error as Error)?.message ?? String(error)}`);
  }
  process.exit(1);
});
