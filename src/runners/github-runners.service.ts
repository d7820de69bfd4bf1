import { Injectable } from '@nestjs/common';
import { GithubClient } from '../github/github.client.js';
import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity } from './runner.entity.js';
import { looksFreshlyCreatedFor, planOf } from './runner-state.rules.js';

/** What removing a runner from GitHub came to. */
export type GithubRemoval = 'deleted' | 'already-gone' | 'never-registered';

/**
 * A row's runner on GitHub, found and removed by the same rules wherever it is needed: refresh,
 * delete, sync and cleanup.
 */
@Injectable()
export class GithubRunnersService {
  constructor(private readonly github: GithubClient) {}

  /**
   * Finds the row's runner on GitHub: by id once known; before that, a registration-token runner by
   * its name (config.sh registered it under that name with our token). A JIT row without an id is a
   * request still under way or one that died: by name only if it looks exactly like what it asked
   * for. Null when GitHub has no such runner.
   */
  async find(runner: RunnerEntity): Promise<GithubRunner | null> {
    if (runner.githubRunnerId !== null) return this.github.getRunner(runner.githubRunnerId);
    const found = await this.github.findRunnerByName(runner.name);
    if (!found) return null;
    if (runner.kind === 'registration_token') return found;
    return looksFreshlyCreatedFor(found, planOf(runner)) ? found : null;
  }

  /**
   * Removes the row's runner from GitHub; a runner GitHub no longer has (or never had) counts as
   * removed. A runner running a job throws GITHUB_RUNNER_BUSY and stays.
   */
  async remove(runner: RunnerEntity): Promise<GithubRemoval> {
    if (runner.githubRunnerId !== null) return this.github.deleteRunner(runner.githubRunnerId);
    const found = await this.find(runner);
    if (!found) return 'never-registered';
    return this.github.deleteRunner(found.id);
  }
}
