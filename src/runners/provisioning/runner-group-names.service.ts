import { Injectable } from '@nestjs/common';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import { GithubClient } from '../../github/github.client.js';

/**
 * Runner group names for `./config.sh --runnergroup NAME` (config.sh takes a name, GitHub's API an
 * id). Each is read from GitHub once and kept: a group is renamed rarely, and a stale name makes
 * config.sh fail loudly rather than register the runner elsewhere.
 */
@Injectable()
export class RunnerGroupNames {
  private readonly names = new Map<number, Promise<string>>();

  constructor(private readonly github: GithubClient) {}

  nameOf(runnerGroupId: number): Promise<string> {
    let name = this.names.get(runnerGroupId);
    if (!name) {
      name = this.lookUp(runnerGroupId);
      this.names.set(runnerGroupId, name);
      // A failed lookup is not kept: the next request asks GitHub again.
      name.catch(() => this.names.delete(runnerGroupId));
    }
    return name;
  }

  private async lookUp(runnerGroupId: number): Promise<string> {
    const group = await this.github.getRunnerGroup(runnerGroupId);
    if (!group) {
      throw new DomainError(
        ERROR_CODES.GITHUB_REJECTED,
        `The organization has no runner group ${runnerGroupId}; an operator must create it, or correct GITHUB_RUNNER_GROUP_ID or the policy's runner_groups`,
        { runner_group_id: runnerGroupId },
      );
    }
    return group.name;
  }
}
