import type { Logger } from '@nestjs/common';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import type { GithubConfig } from '../config/app-config.js';
import { remainingBudgetMs } from '../common/request-deadline.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GithubBudget } from './github-budget.service.js';

const API_VERSION = '2022-11-28';
const USER_AGENT = 'runner-token-service';

/**
 * The App's Octokit: installation tokens made and refreshed by @octokit/auth-app, every request
 * bounded by GITHUB_REQUEST_TIMEOUT_MS and by what is left of the HTTP request's deadline, and every
 * answer's rate-limit headers read into the shared budget and the metrics.
 */
export function createGithubOctokit(
  settings: GithubConfig,
  { logger, budget, metrics }: { logger: Logger; budget: GithubBudget; metrics: Metrics },
): Octokit {
  if (!settings.apiUrl || !settings.appId) {
    throw new Error('GitHub is not configured: set GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID, GITHUB_APP_PRIVATE_KEY_PATH and GITHUB_ORG');
  }
  const timeoutMs = settings.requestTimeoutMs;
  return new Octokit({
    baseUrl: settings.apiUrl,
    userAgent: USER_AGENT,
    authStrategy: createAppAuth,
    auth: {
      appId: settings.appId,
      privateKey: settings.privateKey,
      installationId: settings.installationId,
    },
    headers: { 'x-github-api-version': API_VERSION },
    request: {
      // Every request, the token request included, gives up after the timeout, or sooner when
      // the HTTP request it serves has less of its budget left.
      fetch: async (url: string | URL, init: RequestInit = {}) => {
        const left = remainingBudgetMs();
        const timeout = init.signal ? undefined : new CallTimeout(left === undefined ? timeoutMs : Math.min(timeoutMs, left));
        let response: Response;
        try {
          response = await fetch(url, { ...init, signal: init.signal ?? timeout?.signal });
          recordRateLimit(metrics, response.headers);
          // A rate-limit answer is judged with its body (the error mapping); any other tells the budget left.
          if (response.status !== 403 && response.status !== 429) await budget.observe(response.headers);
        } catch (error) {
          timeout?.cancel();
          throw error;
        }
        return timeout ? timeout.endsWithBodyOf(response) : response;
      },
    },
    log: {
      debug: (message: string) => logger.debug(message),
      info: (message: string) => logger.log(message),
      warn: (message: string) => logger.warn(message),
      error: (message: string) => logger.error(message),
    },
  });
}

/**
 * A call's time limit, which aborts it (with a TimeoutError) at the end of `ms`, whether the answer's
 * headers or its body are late, and is cancelled once the body has been read. AbortSignal.timeout would
 * do the same, but in Node 20 each such signal is made transferable to other threads and watched for
 * collection: 0.6 ms of CPU a call, more than the rest of the call to GitHub (0.9 ms).
 */
class CallTimeout {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.timer = setTimeout(
      () => this.controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      Math.max(1, ms),
    );
    // The call's socket keeps the process alive while it waits; the limit alone must not.
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  cancel(): void {
    clearTimeout(this.timer);
  }

  /** The response, its limit cancelled once its body is read (Octokit reads it with text() or arrayBuffer()). */
  endsWithBodyOf(response: Response): Response {
    if (response.body === null) {
      this.cancel();
      return response;
    }
    for (const read of ['text', 'arrayBuffer', 'json'] as const) {
      const original = response[read].bind(response) as () => Promise<unknown>;
      Object.defineProperty(response, read, { value: () => original().finally(() => this.cancel()) });
    }
    return response;
  }
}

/** GitHub's rate-limit headers, on any answer that has them, into the two gauges. */
function recordRateLimit(metrics: Metrics, headers: Headers): void {
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (Number.isFinite(remaining)) metrics.githubRateLimitRemaining.set(remaining);
  if (Number.isFinite(reset)) metrics.githubRateLimitReset.set(reset);
}
