import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ERROR_CODES } from '../common/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { GithubBudget, MAX_BLOCK_SECONDS } from './github-budget.service.js';
import type { GithubRateLimitsRepository, ObservedRateLimit, SharedRateLimit } from './github-rate-limits.repository.js';
import type { GithubError } from './github.errors.js';

/** The shared row in memory, with a switch to make the database fail. */
class FakeRows {
  shared: SharedRateLimit | null = null;
  failing = false;
  reads = 0;
  recorded: ObservedRateLimit[] = [];

  async read(): Promise<SharedRateLimit | null> {
    this.reads += 1;
    if (this.failing) throw new Error('connection refused');
    return this.shared;
  }

  async recordLimit(_appId: string, limit: ObservedRateLimit): Promise<void> {
    if (this.failing) throw new Error('connection refused');
    this.recorded.push(limit);
  }
}

const config = { github: { appId: '42' } } as AppConfig;
const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });

describe('GithubBudget', () => {
  let rows: FakeRows;
  let budget: GithubBudget;
  let warn: jest.Spied<Logger['warn']>;
  let error: jest.Spied<Logger['error']>;

  beforeEach(() => {
    rows = new FakeRows();
    budget = new GithubBudget(config, rows as unknown as GithubRateLimitsRepository);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('reads the shared row once for many calls in the same second', async () => {
    await Promise.all(Array.from({ length: 50 }, () => budget.waitMs()));
    await budget.waitMs();
    expect(rows.reads).toBe(1);
  });

  it("refuses while another instance's limit holds, with the whole seconds left", async () => {
    rows.shared = { blockedForMs: 4_200, remaining: 0, resetAt: null };
    const refused = (await budget.assertOpen('generate-jitconfig').catch((thrown: unknown) => thrown)) as GithubError;
    expect(refused.code).toBe(ERROR_CODES.GITHUB_RATE_LIMITED);
    expect(refused.failure.retryAfterSeconds).toBe(5);
    expect(refused.message).toMatch(/nothing was sent to GitHub; retry in 5 s/);
  });

  it('never waits longer than an hour, whatever the row says', async () => {
    rows.shared = { blockedForMs: 10 * 3_600_000, remaining: null, resetAt: null };
    expect(await budget.waitMs()).toBeLessThanOrEqual(MAX_BLOCK_SECONDS * 1000);

    const fresh = new GithubBudget(config, new FakeRows() as unknown as GithubRateLimitsRepository);
    await fresh.block({ waitSeconds: 86_400 });
    expect(await fresh.waitMs()).toBeLessThanOrEqual(MAX_BLOCK_SECONDS * 1000);
  });

  it('goes on with its own view when the row cannot be read, and says so', async () => {
    rows.failing = true;
    expect(await budget.waitMs()).toBe(0);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Could not read the shared GitHub rate limit'));
  });

  it('holds back this instance at once even when the limit cannot be shared', async () => {
    rows.failing = true;
    await budget.block({ waitSeconds: 30 });
    expect(await budget.waitMs()).toBeGreaterThan(29_000);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('Could not share the GitHub rate limit'));
  });

  it('records a limit that many calls under way saw once', async () => {
    await Promise.all(Array.from({ length: 5 }, () => budget.block({ waitSeconds: 30, remaining: 0 })));
    expect(rows.recorded).toEqual([{ waitSeconds: 30, remaining: 0 }]);
  });

  it('waits for the reset when an answer leaves no requests, and not before', async () => {
    const reset = Math.floor(Date.now() / 1000) + 20;
    await budget.observe(headers({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(reset) }));
    expect(rows.recorded).toEqual([]);
    await budget.observe(headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }));
    expect(rows.recorded).toEqual([{ waitSeconds: expect.any(Number), remaining: 0, resetEpochSeconds: reset }]);
    expect(rows.recorded[0].waitSeconds).toBeGreaterThanOrEqual(19);
    expect(await budget.waitMs()).toBeGreaterThan(18_000);
  });
});
