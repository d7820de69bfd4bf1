import { Injectable, Logger } from '@nestjs/common';
import { GithubClient } from '../github/github.client.js';
import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity } from './runner.entity.js';
import { looksFreshlyCreatedFor, planOf, registrationMismatch } from './runner-state.rules.js';

/** What removing a runner from GitHub came to. */
export type GithubRemoval = 'deleted' | 'already-gone' | 'never-registered';

/** A runner GitHub has under a row's name that is not the row's: left alone, and reported. */
export interface ForeignRunner {
  runner: GithubRunner;
  /** Why it is not the row's, for people. */
  reason: string;
}

/** A row's runner on GitHub (null when GitHub has none), and a runner of its name that is not its own. */
export interface RunnerLookup {
  ours: GithubRunner | null;
  foreign?: ForeignRunner;
}

/**
 * A row's runner on GitHub, found and removed by the same rules wherever it is needed: refresh,
 * delete, sync and cleanup.
 */
@Injectable()
export class GithubRunnersService {
  private readonly logger = new Logger(GithubRunnersService.name);

  constructor(private readonly github: GithubClient) {}

  /** The row's runner on GitHub (lookup's `ours`). */
  async find(runner: RunnerEntity): Promise<GithubRunner | null> {
    return (await this.lookup(runner)).ours;
  }

  /**
   * Finds the row's runner on GitHub: by id once known; before that, a registration-token runner by
   * its name, only if it can be the one config.sh registered with the row's token
   * (registrationMismatch); any other runner of that name is someone else's and comes back as
   * `foreign`. A JIT row without an id is a request still under way or one that died: by name only
   * if it looks exactly like what it asked for.
   */
  async lookup(runner: RunnerEntity): Promise<RunnerLookup> {
    if (runner.githubRunnerId !== null) return { ours: await this.github.getRunner(runner.githubRunnerId) };
    const found = await this.github.findRunnerByName(runner.name);
    if (!found) return { ours: null };
    if (runner.kind === 'registration_token') {
      const reason = registrationMismatch(runner, found);
      return reason === null ? { ours: found } : { ours: null, foreign: { runner: found, reason } };
    }
    return { ours: looksFreshlyCreatedFor(found, planOf(runner)) ? found : null };
  }

  /**
   * Removes the row's runner from GitHub; a runner GitHub no longer has (or never had) counts as
   * removed, and a runner of its name that is not its own is left alone. A runner running a job
   * throws GITHUB_RUNNER_BUSY and stays.
   */
  async remove(runner: RunnerEntity): Promise<GithubRemoval> {
    if (runner.githubRunnerId !== null) return this.github.deleteRunner(runner.githubRunnerId);
    const { ours, foreign } = await this.lookup(runner);
    if (foreign) {
      this.logger.warn(
        `Runner ${runner.name}: GitHub's runner ${foreign.runner.id} of that name is not its own (${foreign.reason}); left on GitHub`,
      );
    }
    if (!ours) return 'never-registered';
    return this.github.deleteRunner(ours.id);
  }

  /**
   * Removes the runner GitHub has under `name` when `isOurs` recognises it as the one a request of
   * ours left there (`which`, for the log), and says what it found. Somebody else's runner is never
   * touched. Throws when GitHub cannot be asked.
   */
  async removeLeftover(
    name: string,
    which: string,
    isOurs: (found: GithubRunner) => boolean | Promise<boolean>,
  ): Promise<'removed' | 'none' | 'not-ours'> {
    const found = await this.github.findRunnerByName(name);
    if (!found) return 'none';
    if (!(await isOurs(found))) return 'not-ours';
    await this.github.deleteRunner(found.id);
    this.logger.warn(`Removed runner ${name} (GitHub id ${found.id}) ${which}`);
    return 'removed';
  }
}
