import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { Draining } from './health/draining.service.js';

export interface ShutdownOptions {
  /** How long the service keeps serving after /health and /readyz turn 503 (SHUTDOWN_DRAIN_SECONDS). */
  drainMs: number;
  /** How long requests under way may take to finish once new connections are refused. */
  closeTimeoutMs: number;
}

/** In-flight requests get this long to finish once the server stops accepting. */
export const CLOSE_TIMEOUT_MS = 10_000;

/**
 * A graceful stop, in order:
 * 1. /health and /readyz answer 503, so load balancers stop sending new requests (/healthz stays 200:
 *    the process is alive until it exits);
 * 2. the service keeps serving for the drain period, for those that were already on their way;
 * 3. it stops accepting connections and waits for requests under way (at most closeTimeoutMs, then
 *    the remaining connections are cut), while the scheduler stops its job between two runners;
 * 4. the database pool closes last (Nest's shutdown hooks run after the HTTP server is closed).
 */
export async function gracefulShutdown(app: INestApplication, options: ShutdownOptions, reason = 'shutdown'): Promise<void> {
  const logger = app.get(Logger);
  app.get(Draining).start();
  logger.log(`${reason}: /health and /readyz answer 503 now; serving for ${options.drainMs} ms more, then closing`);
  await new Promise((resolve) => setTimeout(resolve, options.drainMs));
  const server = app.getHttpServer() as Server;
  const cut = setTimeout(() => {
    logger.warn(`${reason}: requests still under way after ${options.closeTimeoutMs} ms; closing their connections`);
    server.closeAllConnections();
  }, options.closeTimeoutMs);
  cut.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
