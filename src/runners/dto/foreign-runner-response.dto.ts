import { ApiProperty } from '@nestjs/swagger';
import type { ForeignRunnerEntity } from '../reconciliation/foreign-runner.entity.js';

/**
 * A runner in the org that this service did not issue and that KNOWN_RUNNER_NAMES does not match,
 * as the last sync saw it.
 */
export class ForeignRunnerResponseDto {
  @ApiProperty({ description: "GitHub's id for the runner", example: 4242 })
  github_runner_id: number;

  @ApiProperty({ description: "GitHub's name for it (any name: another tool chose it)", example: 'someones-laptop' })
  name: string;

  @ApiProperty({ description: "GitHub's status when last seen", example: 'offline' })
  status: string;

  @ApiProperty({ description: 'Running a job, as GitHub last said' })
  busy: boolean;

  @ApiProperty({ type: [String], example: ['self-hosted', 'Linux', 'X64'] })
  labels: string[];

  @ApiProperty({ type: String, format: 'date-time', description: 'When a sync first found it (its foreign_runner audit event)' })
  first_seen_at: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The last sync that found it' })
  last_seen_at: string;
}

export function toForeignRunnerResponse(runner: ForeignRunnerEntity): ForeignRunnerResponseDto {
  return {
    github_runner_id: runner.githubRunnerId,
    name: runner.name,
    status: runner.status,
    busy: runner.busy,
    labels: runner.labels,
    first_seen_at: runner.firstSeenAt.toISOString(),
    last_seen_at: runner.lastSeenAt.toISOString(),
  };
}
