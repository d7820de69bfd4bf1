import { ApiProperty } from '@nestjs/swagger';
import {
  DELETION_REASONS,
  type DeletionReason,
  RUNNER_KINDS,
  RUNNER_STATUSES,
  type RunnerEntity,
  type RunnerKind,
  type RunnerStatus,
} from '../runner.entity.js';

/** The last job GitHub said a runner took (from its workflow_job webhooks). */
export class RunnerJobDto {
  @ApiProperty({ description: 'The repository the job belongs to (owner/name)', example: 'my-org/api' })
  repository: string;

  @ApiProperty({ description: 'The workflow run of the job', example: 9876543210 })
  run_id: number;

  @ApiProperty({ type: Number, nullable: true, description: "The run's attempt (1, higher for re-runs); null when GitHub did not say", example: 1 })
  run_attempt: number | null;

  @ApiProperty({ description: "GitHub's id of the job", example: 28317284113 })
  job_id: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'How the job ended, as GitHub says (success, failure, cancelled, skipped, timed_out…); null while it runs',
    example: 'success',
  })
  conclusion: string | null;
}

export class RunnerResponseDto {
  @ApiProperty({ description: "The service's id for the runner (use it in /runners/{id} calls)", format: 'uuid' })
  runner_id: string;

  @ApiProperty({ example: 'podman-runner-a1b2c3' })
  runner_name: string;

  @ApiProperty({
    enum: RUNNER_STATUSES,
    description:
      'pending: credential issued, never seen online; active: online on GitHub; offline: seen but not online; ' +
      'deleted: removed; failed: GitHub refused to create it',
  })
  status: RunnerStatus;

  @ApiProperty({ description: 'Running a job, as GitHub last said' })
  busy: boolean;

  @ApiProperty({ enum: RUNNER_KINDS, description: 'How it was provisioned: a JIT config or a registration token' })
  kind: RunnerKind;

  @ApiProperty()
  ephemeral: boolean;

  @ApiProperty({ type: [String], example: ['self-hosted', 'linux', 'x64', 'podman'] })
  labels: string[];

  @ApiProperty({ example: 1 })
  runner_group_id: number;

  @ApiProperty({ type: Number, nullable: true, description: "GitHub's id for the runner, once known" })
  github_runner_id: number | null;

  @ApiProperty({ description: "The owner's name (the OIDC user claim)" })
  owner: string;

  @ApiProperty({ type: String, nullable: true, description: 'Why GitHub refused the runner (status failed)' })
  failure_reason: string | null;

  @ApiProperty({
    enum: DELETION_REASONS,
    nullable: true,
    description:
      'Why the service itself marked the runner deleted: never_started (a JIT runner not online by its expires_at), ' +
      'stale (pending or offline longer than the cleanup allows), gone_from_github (GitHub removed it: an ephemeral ' +
      'runner whose job is done). Null otherwise, also when a DELETE request removed it',
  })
  deletion_reason: DeletionReason | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_seen_at: string | null;

  @ApiProperty({
    type: RunnerJobDto,
    nullable: true,
    description:
      'The last job the runner took, as GitHub\'s workflow_job webhooks reported it; null when none was reported (webhooks off, or no job yet)',
  })
  job: RunnerJobDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updated_at: string;
}

export class RunnerListResponseDto {
  @ApiProperty({ type: [RunnerResponseDto], description: 'Newest first' })
  runners: RunnerResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= (with the same status and limit) for the next page; null on the last page',
  })
  next_cursor: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The next page as a path with its query; null on the last page' })
  next: string | null;
}

export function toRunnerResponse(runner: RunnerEntity): RunnerResponseDto {
  return {
    runner_id: runner.id,
    runner_name: runner.name,
    status: runner.status,
    busy: runner.busy,
    kind: runner.kind,
    ephemeral: runner.ephemeral,
    labels: runner.labels,
    runner_group_id: runner.runnerGroupId,
    github_runner_id: runner.githubRunnerId,
    owner: runner.ownerName,
    failure_reason: runner.failureReason,
    deletion_reason: runner.deletionReason,
    expires_at: runner.expiresAt?.toISOString() ?? null,
    last_seen_at: runner.lastSeenAt?.toISOString() ?? null,
    job: toRunnerJob(runner),
    created_at: runner.createdAt.toISOString(),
    updated_at: runner.updatedAt.toISOString(),
  };
}

function toRunnerJob(runner: RunnerEntity): RunnerJobDto | null {
  if (runner.jobId === null || runner.jobRunId === null || runner.jobRepository === null) return null;
  return {
    repository: runner.jobRepository,
    run_id: runner.jobRunId,
    run_attempt: runner.jobRunAttempt,
    job_id: runner.jobId,
    conclusion: runner.jobConclusion,
  };
}
