import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigError, loadConfig, readEnvironment } from './config/config.loader.js';
import { API_PREFIX, DOCS_PATH, configureApp } from './configure-app.js';
import { SchemaNotReadyError } from './database/schema.js';
import { GithubSimulator } from './github/simulator/github-simulator.js';

/** The demo's GitHub: the built-in simulator, in this process, with a fresh App key. */
async function startSimulatedGithub(config: AppConfig): Promise<{ config: AppConfig; simulator: GithubSimulator }> {
  const simulator = await GithubSimulator.start();
  return { config: { ...config, github: { ...config.github, ...simulator.connectionSettings() } }, simulator };
}

async function bootstrap(): Promise<void> {
  const demo = process.argv.includes('--demo');
  let config = loadConfig(readEnvironment(), { demo });
  let simulator: GithubSimulator | undefined;
  if (config.github.simulated) ({ config, simulator } = await startSimulatedGithub(config));

  // The embedded database is migrated at start; PostgreSQL must have been prepared with init-db.
  const schema = config.database.kind === 'pglite' ? 'migrate' : 'verify';
  const app = await NestFactory.create(AppModule.forRoot(config, { schema }), { bufferLogs: true });
  configureApp(app);
  if (simulator) {
    const running = simulator;
    app.get(Logger).warn(`GitHub is SIMULATED: the built-in simulator at ${running.url} (org ${running.org})`);
    process.once('beforeExit', () => void running.stop());
  }
  await app.listen(config.app.port);
  const url = `http://localhost:${config.app.port}`;
  app
    .get(Logger)
    .log(
      `Runner Token Service listening on ${url}: API ${url}/${API_PREFIX}, docs ${url}/${DOCS_PATH}, health ${url}/health`,
    );
  app.get(Logger).log(`Database: ${describeDatabase(config)}; GitHub: ${config.github.apiUrl} (org ${config.github.org})`);
}

function describeDatabase(config: AppConfig): string {
  if (config.database.kind === 'postgres') return `PostgreSQL at ${new URL(config.database.url).host}`;
  return config.database.dataDir ? `embedded PGlite in ${config.database.dataDir}` : 'embedded PGlite in memory';
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
  } else if (error instanceof SchemaNotReadyError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    new NestLogger('Bootstrap').error(`Start failed: ${(error as Error)?.message ?? String(error)}`);
  }
  process.exit(1);
});
