import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowSeconds } from './simulator.util.js';

/** The simulator's HTTP plumbing: the server, request bodies, responses with GitHub's headers, error bodies. */

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface SimulatorRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  body?: unknown;
}

/** Where a request goes, with GitHub's path normalisation applied. */
export interface RequestTarget {
  method: string;
  path: string;
  query: Record<string, string>;
}

export const DOCS = 'https://docs.github.com/rest';
export const RATE_LIMIT = 5000;

const GHES_API_PREFIX = '/api/v3';
const RATE_LIMIT_WINDOW_SECONDS = 3600;
const MAX_BODY_BYTES = 1024 * 1024;

/** Listens on host:port (0 picks a free port); requests are served once `serve` names the handler. */
export async function listen(host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  return { server, url: `http://${urlHost(host)}:${boundPort}` };
}

/** Serves every request with `handle`; a handler that throws answers 500 with a GitHub-shaped body. */
export function serve(server: Server, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        send(res, { status: 500, body: errorBody(500, String(error), DOCS) });
      }
    });
  });
}

export async function stopServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets would otherwise hold the server (and jest) open.
  server.closeAllConnections();
  await closed;
}

export function requestTarget(req: IncomingMessage): RequestTarget {
  const parsed = new URL(req.url ?? '/', 'http://simulator.invalid');
  const trimmed = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, '') : parsed.pathname;
  // GitHub Enterprise Server serves the same API under /api/v3: accept both forms.
  const path = trimmed.startsWith(`${GHES_API_PREFIX}/`) ? trimmed.slice(GHES_API_PREFIX.length) : trimmed;
  const query: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) query[key] = value;
  return { method: (req.method ?? 'GET').toUpperCase(), path, query };
}

/** The parsed JSON body, undefined when empty; rejects on bad JSON or over 1 MiB. */
export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('Body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Writes the response; `baseHeaders` come first so a response's own headers can override them. */
export function send(res: ServerResponse, response: SimResponse, baseHeaders: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...baseHeaders };
  Object.assign(headers, response.headers);
  if (response.status === 204 || response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(response.status, headers);
  res.end(text);
}

/** Where GitHub documents its rate limits; its rate-limit answers point there. */
export const DOCS_RATE_LIMIT = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

/** A share of the primary limit: the count so far, and how many requests the window allows. */
export interface RateLimitSettings {
  /** Requests allowed in the window (GitHub: 5,000 an hour and up for an installation). */
  limit?: number;
  /** Requests left in the current window. */
  remaining?: number;
  /** Seconds until the current window resets (at most an hour). */
  resetInSeconds?: number;
}

/**
 * GitHub's primary rate limit for the installation: a count of authenticated requests per hourly
 * window. Once the window's requests are spent GitHub refuses every request with 403, remaining 0
 * and the reset time, and no retry-after, until the window resets.
 */
export class RateLimit {
  private limit = RATE_LIMIT;
  private used = 0;
  private windowStart = nowSeconds();

  count(): void {
    this.roll();
    this.used += 1;
  }

  /** True while the window's requests are spent. */
  exhausted(): boolean {
    this.roll();
    return this.used >= this.limit;
  }

  /** Sets the window as a test needs it: a small limit, a few requests left, a reset soon. */
  configure(settings: RateLimitSettings): void {
    this.roll();
    if (settings.limit !== undefined) this.limit = settings.limit;
    if (settings.remaining !== undefined) this.used = Math.max(0, this.limit - settings.remaining);
    if (settings.resetInSeconds !== undefined) {
      this.windowStart = nowSeconds() + Math.min(settings.resetInSeconds, RATE_LIMIT_WINDOW_SECONDS) - RATE_LIMIT_WINDOW_SECONDS;
    }
  }

  reset(): void {
    this.limit = RATE_LIMIT;
    this.used = 0;
    this.windowStart = nowSeconds();
  }

  /** GitHub's answer to a request once the window is spent (its headers come from githubHeaders). */
  exceeded(installationId: number): SimResponse {
    return {
      status: 403,
      body: errorBody(
        403,
        `API rate limit exceeded for installation ID ${installationId}. If you reach out to GitHub Support for help, ` +
          `please include the request ID ${requestId()} and timestamp ${new Date().toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC')}.`,
        DOCS_RATE_LIMIT,
      ),
    };
  }

  /** The headers GitHub puts on every REST answer. */
  githubHeaders(): Record<string, string> {
    this.roll();
    return {
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': requestId(),
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.limit - this.used)),
      'x-ratelimit-used': String(this.used),
      'x-ratelimit-reset': String(this.windowStart + RATE_LIMIT_WINDOW_SECONDS),
      'x-ratelimit-resource': 'core',
    };
  }

  /** A new window once the current one has run out: the count starts again from zero. */
  private roll(): void {
    const now = nowSeconds();
    if (now >= this.windowStart + RATE_LIMIT_WINDOW_SECONDS) {
      this.windowStart = now;
      this.used = 0;
    }
  }
}

export function errorBody(status: number, message: string, documentationUrl: string): Record<string, string> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function notFound(documentationUrl = DOCS): SimResponse {
  return { status: 404, body: errorBody(404, 'Not Found', documentationUrl) };
}

export function badJson(): SimResponse {
  return { status: 400, body: errorBody(400, 'Problems parsing JSON', DOCS) };
}

function requestId(): string {
  const hex = (bytes: number): string => randomBytes(bytes).toString('hex').toUpperCase();
  return `${hex(2)}:${hex(3)}:${hex(4)}:${hex(4)}:${hex(4)}`;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
