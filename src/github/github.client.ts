import { Inject, Injectable, Logger } from '@nestjs/common';
import { Octokit } from '@octokit/core';
import { APP_CONFIG, type AppConfig, type GithubConfig } from '../config/app-config.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { remainingBudgetMs } from '../common/request-deadline.js';
import { createGithubOctokit } from './github-octokit.js';
import { GithubBudget } from './github-budget.service.js';
import { Metrics } from '../metrics/metrics.js';
import { ConcurrencyLimit, SlidingWindowLimit } from './github-call-limits.js';
import { GithubError, toGithubError } from './github.errors.js';
import type { GithubRunner, GithubRunnerGroup, JitConfig, JitConfigRequest, RegistrationToken } from './github.types.js';

/** GitHub's largest page of runners. */
export const RUNNERS_PER_PAGE = 100;
/** A read GitHub failed (5xx) or that did not reach it is sent again at most this many times. */
const READ_RETRIES = 2;
/** A retry is sent only if at least this much of the request's budget is left after its pause. */
const MIN_USEFUL_BUDGET_MS = 500;
/** The first pause before a retried read; each later one doubles it, with ±50 % jitter. */
const READ_RETRY_BASE_MS = 200;
/** A listing that changed under us (runners came or went between pages) is tried once more. */
const LIST_ATTEMPTS = 2;
/** GITHUB_JITCONFIG_PER_MINUTE counts generate-jitconfig calls in any window this long. */
const JITCONFIG_WINDOW_MS = 60_000;

/** Every runner of the org, as one consistent listing. */
export interface RunnerListing {
  runners: GithubRunner[];
  /** How many list requests it took (all attempts). */
  requests: number;
}

/**
 * The one adapter to GitHub: App authentication (the installation token is cached by auth-app for
 * 59 minutes, so one token request an hour, not one per call), the base URL (api.github.com, GHES,
 * the simulator), a per-request timeout, and error mapping to domain errors. No business rules.
 *
 * Reads (list pages, a runner, a group) are retried on a 5xx or a network error, at most twice.
 * Nothing here retries a POST: generate-jitconfig is not idempotent (a retry after a lost answer
 * gets 409), so the caller decides what a failure means.
 *
 * GitHub's limits: while GitHub says wait (GithubBudget, shared by every instance) no call is sent
 * and the caller gets GITHUB_RATE_LIMITED; at most GITHUB_MAX_CONCURRENCY calls are under way at
 * once (the others wait, within their request's deadline); and at most GITHUB_JITCONFIG_PER_MINUTE
 * generate-jitconfig calls go out in any minute.
 */
@Injectable()
export class GithubClient {
  private readonly logger = new Logger(GithubClient.name);
  private client: Octokit | undefined;
  private readonly settings: GithubConfig;
  private readonly slots: ConcurrencyLimit;
  private readonly jitConfigs: SlidingWindowLimit;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly budget: GithubBudget,
    private readonly metrics: Metrics,
  ) {
    this.settings = config.github;
    this.slots = new ConcurrencyLimit(this.settings.maxConcurrency);
    this.jitConfigs = new SlidingWindowLimit(this.settings.jitConfigPerMinute, JITCONFIG_WINDOW_MS);
  }

  /**
   * Built on first use, so that CLI commands which never call GitHub (init-db, list-runners,
   * export-audit-log) run without GitHub settings.
   */
  private get octokit(): Octokit {
    this.client ??= this.createOctokit();
    return this.client;
  }

  private createOctokit(): Octokit {
    return createGithubOctokit(this.settings, { logger: this.logger, budget: this.budget, metrics: this.metrics });
  }

  get org(): string {
    return this.settings.org;
  }

  /**
   * Calls a background job (the sync's list pages, its lookups) keeps under way at once: three
   * quarters of GITHUB_MAX_CONCURRENCY, at least one. The other slots stay free for callers waiting on
   * a JIT config or a token, who would otherwise queue behind a 10,000-runner listing's pages. A
   * 10,000-runner org is 100 pages: 12 at a time (the default 16 slots) is 10 round trips, 2.5-3 s at
   * GitHub's 250-300 ms a page; one at a time it would be 100.
   */
  get backgroundConcurrency(): number {
    return Math.max(1, Math.floor((this.slots.size * 3) / 4));
  }

  /** Creates a JIT runner. Not idempotent: never retried here. */
  async generateJitConfig(request: JitConfigRequest): Promise<JitConfig> {
    const response = await this.call(
      'generate-jitconfig',
      () =>
        this.octokit.request('POST /orgs/{org}/actions/runners/generate-jitconfig', {
          org: this.settings.org,
          name: request.name,
          runner_group_id: request.runnerGroupId,
          labels: request.labels,
          work_folder: request.workFolder,
        }),
      { perMinute: this.jitConfigs },
    );
    const data = response.data as { runner: GithubRunner; encoded_jit_config: string };
    return { runner: data.runner, encodedJitConfig: data.encoded_jit_config };
  }

  async createRegistrationToken(): Promise<RegistrationToken> {
    const response = await this.call('create-registration-token', () =>
      this.octokit.request('POST /orgs/{org}/actions/runners/registration-token', { org: this.settings.org }),
    );
    const data = response.data as { token: string; expires_at: string };
    return { token: data.token, expiresAt: new Date(data.expires_at) };
  }

  /** The org's runner group with this id, or null when the org has none such. */
  async getRunnerGroup(runnerGroupId: number): Promise<GithubRunnerGroup | null> {
    try {
      const response = await this.read('get-runner-group', () =>
        this.octokit.request('GET /orgs/{org}/actions/runner-groups/{runner_group_id}', {
          org: this.settings.org,
          runner_group_id: runnerGroupId,
        }),
      );
      const data = response.data as GithubRunnerGroup;
      return { id: data.id, name: data.name, default: data.default };
    } catch (error) {
      if (error instanceof GithubError && error.failure.status === 404) return null;
      throw error;
    }
  }

  /** The org's runner with exactly this name, or null. */
  async findRunnerByName(name: string): Promise<GithubRunner | null> {
    const response = await this.read('list-runners', () =>
      this.octokit.request('GET /orgs/{org}/actions/runners', { org: this.settings.org, name, per_page: RUNNERS_PER_PAGE }),
    );
    const data = response.data as { runners: GithubRunner[] };
    return data.runners.find((runner) => runner.name === name) ?? null;
  }

  /**
   * Every runner of the org: all pages, 100 a page. The listing must be consistent: every page
   * reports the same total and the runners add up to it. When runners came or went between pages
   * (a page boundary shifted, so one may have been skipped), the whole listing is taken again once;
   * if it is still inconsistent, or any page fails, this throws and the caller changes nothing.
   * `signal` stops it between two pages (the pages under way finish): it then throws the signal's
   * reason, and the caller has no listing.
   */
  async listAllRunners(options: { signal?: AbortSignal } = {}): Promise<RunnerListing> {
    let requests = 0;
    for (let attempt = 1; ; attempt++) {
      const listing = await this.listRunnersOnce(options.signal);
      requests += listing.requests;
      if (listing.consistent) return { runners: listing.runners, requests };
      if (attempt >= LIST_ATTEMPTS) {
        throw new GithubError(
          ERROR_CODES.GITHUB_UNAVAILABLE,
          `GitHub's runner list changed while it was being read (${attempt} attempts); nothing was changed, the next sync tries again`,
          {},
        );
      }
      this.logger.log("GitHub's runner list changed while it was being read; reading it again");
    }
  }

  private async listRunnersOnce(signal?: AbortSignal): Promise<{ runners: GithubRunner[]; requests: number; consistent: boolean }> {
    signal?.throwIfAborted();
    const first = await this.listRunnersPage(1);
    const totals = new Set([first.total_count]);
    const lastPage = Math.max(1, Math.ceil(first.total_count / RUNNERS_PER_PAGE));
    const pages: GithubRunner[][] = [first.runners];
    let nextPage = 2;
    const worker = async () => {
      while (nextPage <= lastPage && !signal?.aborted) {
        const page = nextPage++;
        const data = await this.listRunnersPage(page);
        totals.add(data.total_count);
        pages[page - 1] = data.runners;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.backgroundConcurrency, lastPage - 1) }, worker));
    signal?.throwIfAborted();
    const byId = new Map<number, GithubRunner>();
    for (const page of pages) for (const runner of page) byId.set(runner.id, runner);
    return {
      runners: [...byId.values()],
      requests: lastPage,
      consistent: totals.size === 1 && byId.size === first.total_count,
    };
  }

  private async listRunnersPage(page: number): Promise<{ total_count: number; runners: GithubRunner[] }> {
    const response = await this.read('list-runners', () =>
      this.octokit.request('GET /orgs/{org}/actions/runners', {
        org: this.settings.org,
        per_page: RUNNERS_PER_PAGE,
        page,
      }),
    );
    return response.data as { total_count: number; runners: GithubRunner[] };
  }

  /** The runner, or null when GitHub no longer has it. */
  async getRunner(runnerId: number): Promise<GithubRunner | null> {
    try {
      const response = await this.read('get-runner', () =>
        this.octokit.request('GET /orgs/{org}/actions/runners/{runner_id}', {
          org: this.settings.org,
          runner_id: runnerId,
        }),
      );
      return response.data as GithubRunner;
    } catch (error) {
      if (error instanceof GithubError && error.failure.status === 404) return null;
      throw error;
    }
  }

  /**
   * Removes the runner from GitHub. A runner already gone counts as removed ('already-gone').
   * A runner running a job cannot be removed: GITHUB_RUNNER_BUSY.
   */
  async deleteRunner(runnerId: number): Promise<'deleted' | 'already-gone'> {
    try {
      await this.call('delete-runner', () =>
        this.octokit.request('DELETE /orgs/{org}/actions/runners/{runner_id}', {
          org: this.settings.org,
          runner_id: runnerId,
        }),
      );
      return 'deleted';
    } catch (error) {
      if (!(error instanceof GithubError)) throw error;
      if (error.failure.status === 404) return 'already-gone';
      if (error.failure.status === 422) {
        throw new GithubError(
          ERROR_CODES.GITHUB_RUNNER_BUSY,
          `GitHub will not remove runner ${runnerId} while it runs a job; try again when the job is done`,
          error.failure,
        );
      }
      throw error;
    }
  }

  /**
   * A read that changes nothing on GitHub (a list page, a runner, a group): when GitHub fails (a 5xx)
   * or cannot be reached, it is sent again, at most READ_RETRIES times, after a jittered pause that
   * doubles each time. Nothing else is retried: not a timeout (the request may still be running), not
   * a rate limit (waiting is the answer), and never a write.
   */
  private async read<T>(operation: string, send: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.call(operation, send);
      } catch (error) {
        const transient = error instanceof GithubError && error.code === ERROR_CODES.GITHUB_UNAVAILABLE;
        if (!transient || retry >= READ_RETRIES) throw error;
        const pause = READ_RETRY_BASE_MS * 2 ** retry * (0.5 + Math.random());
        // A retry that cannot finish inside the request's budget is not worth the wait.
        const budget = remainingBudgetMs();
        if (budget !== undefined && budget < pause + MIN_USEFUL_BUDGET_MS) throw error;
        this.logger.log(`Retrying GitHub ${operation} in ${Math.round(pause)} ms (retry ${retry + 1} of ${READ_RETRIES})`);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * One call to GitHub within its limits: refused while GitHub says wait, then sent once a slot is
   * free (and, for `perMinute`, once that window has room), then mapped. A call whose request runs
   * out of time while it waits for a slot is never sent.
   */
  private async call<T>(operation: string, send: () => Promise<T>, limits: { perMinute?: SlidingWindowLimit } = {}): Promise<T> {
    await this.assertOpen(operation);
    const release = await this.slots.acquire(remainingBudgetMs());
    if (!release) {
      this.logger.warn(`GitHub ${operation} not sent: the request ran out of time waiting for one of ${this.slots.size} GitHub slots`);
      throw new DomainError(
        ERROR_CODES.REQUEST_DEADLINE_EXCEEDED,
        'The request ran out of time waiting for its turn to call GitHub (the service is busy); nothing was sent to GitHub; try again',
      );
    }
    try {
      // GitHub may have said wait while this call was waiting for its slot.
      await this.assertOpen(operation);
      if (limits.perMinute) this.takeTurn(operation, limits.perMinute);
      return await this.send(operation, send);
    } finally {
      release();
    }
  }

  private async assertOpen(operation: string): Promise<void> {
    try {
      await this.budget.assertOpen(operation);
    } catch (error) {
      this.logger.debug(`GitHub ${operation} not sent: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Counts the call in its per-minute window, or refuses it when the window is full. */
  private takeTurn(operation: string, window: SlidingWindowLimit): void {
    const waitMs = window.take();
    if (waitMs === 0) return;
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    this.logger.warn(`GitHub ${operation} not sent: ${window.limit} a minute already (GITHUB_JITCONFIG_PER_MINUTE); room again in ${seconds} s`);
    throw new GithubError(
      ERROR_CODES.GITHUB_RATE_LIMITED,
      `This service's limit of runner configs a minute from GitHub is reached; nothing was sent to GitHub; retry in ${seconds} s`,
      { retryAfterSeconds: seconds, operatorDetail: `GITHUB_JITCONFIG_PER_MINUTE=${window.limit} on this instance` },
    );
  }

  /**
   * Sends one request and maps its failure; a rate limit GitHub answered holds back every call (of
   * every instance) for as long as GitHub said. A 401 means GitHub did not act on the request (the
   * installation token was revoked or expired early), so one retry with a fresh token is safe even
   * for a POST; every other failure is returned to the caller untouched.
   */
  private async send<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return this.counted(operation, await send());
    } catch (error) {
      const mapped = toGithubError(error, operation, this.settings.org);
      if (mapped.failure.status === 401 && (await this.refreshToken())) {
        try {
          return this.counted(operation, await send());
        } catch (retryError) {
          throw await this.report(operation, toGithubError(retryError, operation, this.settings.org));
        }
      }
      throw await this.report(operation, mapped);
    }
  }

  /** Counts an answered request in rts_github_requests_total. */
  private counted<T>(operation: string, response: T): T {
    const status = (response as { status?: unknown }).status;
    this.metrics.githubRequests.inc({ operation, status: typeof status === 'number' ? String(status) : '200' });
    return response;
  }

  private async report(operation: string, error: GithubError): Promise<GithubError> {
    // 0: no answer (a timeout, a refused connection).
    this.metrics.githubRequests.inc({ operation, status: String(error.failure.status ?? 0) });
    const detail = error.failure.operatorDetail ? ` (${error.failure.operatorDetail})` : '';
    this.logger.warn(`GitHub ${operation} failed: ${error.code}: ${error.message}${detail}`);
    const { status, retryAfterSeconds, remaining, resetEpochSeconds } = error.failure;
    if (error.code === ERROR_CODES.GITHUB_RATE_LIMITED && status !== undefined && retryAfterSeconds !== undefined) {
      await this.budget.block({ waitSeconds: retryAfterSeconds, remaining, resetEpochSeconds });
    }
    return error;
  }

  /** Replaces the cached installation token; false when GitHub would not issue a new one. */
  private async refreshToken(): Promise<boolean> {
    try {
      await this.octokit.auth({ type: 'installation', refresh: true });
      return true;
    } catch {
      // The App's own credentials are wrong: the original 401 says so.
      return false;
    }
  }
}
