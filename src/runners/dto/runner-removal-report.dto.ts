import { ApiProperty } from '@nestjs/swagger';
import type { GithubRemoval } from '../github-runners.service.js';
import type { RunnerEntity } from '../runner.entity.js';

const GITHUB_REMOVALS: GithubRemoval[] = ['deleted', 'already-gone', 'never-registered'];

/** Which runner an entry of a removal report is about. */
export class RemovalReportRunnerDto {
  @ApiProperty({ format: 'uuid' })
  runner_id: string;

  @ApiProperty({ example: 'podman-runner-a1b2c3' })
  runner_name: string;

  @ApiProperty({ description: "The owner's display name", example: 'alice@example.com' })
  owner: string;

  @ApiProperty({ type: Number, nullable: true, description: "GitHub's id for the runner, once known" })
  github_runner_id: number | null;
}

export class RemovedRunnerDto extends RemovalReportRunnerDto {
  @ApiProperty({
    enum: GITHUB_REMOVALS,
    description: 'deleted: removed from GitHub now; already-gone, never-registered: GitHub had no such runner (counts as removed)',
  })
  github: GithubRemoval;
}

export class SkippedRunnerDto extends RemovalReportRunnerDto {
  @ApiProperty({ description: 'Why it was left as it is', example: 'Runner "build-1" is running a job on GitHub and was left as it is' })
  reason: string;
}

export class FailedRunnerDto extends SkippedRunnerDto {
  @ApiProperty({ description: 'The error code', example: 'GITHUB_UNAVAILABLE' })
  error_code: string;
}

/** What removing a set of runners came to, runner by runner. */
export class RunnerRemovalReportDto {
  @ApiProperty({ type: [RemovedRunnerDto], description: 'Removed from GitHub (or already gone there) and marked deleted' })
  removed: RemovedRunnerDto[];

  @ApiProperty({
    type: [SkippedRunnerDto],
    description:
      'Left as they are because they are running a job (or still being provisioned). An ephemeral runner leaves GitHub ' +
      'after its job and the next sync marks it deleted; after a suspension with remove_runners, the next cleanup removes ' +
      'any other once it is idle.',
  })
  busy: SkippedRunnerDto[];

  @ApiProperty({ type: [FailedRunnerDto], description: 'Not removed because GitHub failed; try again later' })
  failed: FailedRunnerDto[];
}

export function toRemovalReportRunner(runner: RunnerEntity): RemovalReportRunnerDto {
  return { runner_id: runner.id, runner_name: runner.name, owner: runner.ownerName, github_runner_id: runner.githubRunnerId };
}
