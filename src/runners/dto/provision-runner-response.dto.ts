import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { RunnerEntity } from '../runner.entity.js';

@ApiSchema({
  description:
    'The runner is recorded pending: run configuration_command (then ./run.sh) on the runner machine before ' +
    'expires_at. The registration token is shown only in this answer.',
})
export class ProvisionRunnerResponseDto {
  @ApiProperty({ description: "The service's id for the runner (use it in /runners/{id} calls)", format: 'uuid' })
  runner_id: string;

  @ApiProperty({ example: 'gpu-worker-001' })
  runner_name: string;

  @ApiProperty({
    description:
      "GitHub's registration token for `./config.sh --token`: a secret that registers runners in the org until " +
      'expires_at. It is shown once and never stored.',
    example: 'AABBCCDD...',
  })
  registration_token: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When GitHub stops accepting the token (an hour after issue): run config.sh before then',
    example: '2026-01-16T15:30:00.000Z',
  })
  expires_at: string;

  @ApiProperty({ description: "The organization's web address, for `./config.sh --url`", example: 'https://github.com/my-org' })
  github_url: string;

  @ApiProperty({ description: 'The runner group the token registers runners in', example: 1 })
  runner_group_id: number;

  @ApiProperty({ description: 'Whether configuration_command registers an ephemeral runner', example: true })
  ephemeral: boolean;

  @ApiProperty({
    type: [String],
    description: 'The labels for config.sh, normalised (config.sh adds self-hosted, OS and architecture itself)',
    example: ['gpu', 'ubuntu-22.04', 'cuda-11.8'],
  })
  labels: string[];

  @ApiProperty({
    description: 'The command that registers the runner on its machine (it carries the token)',
    example:
      './config.sh --url https://github.com/my-org --token AABBCCDD... --name gpu-worker-001 ' +
      '--labels gpu,ubuntu-22.04,cuda-11.8 --runnergroup Default --ephemeral',
  })
  configuration_command: string;
}

/**
 * The `./config.sh` line for this runner. Names and labels hold no characters a shell would read;
 * the runner group's name is GitHub's (it may hold spaces), so it is quoted when it needs to be.
 */
export function configurationCommand(options: {
  githubUrl: string;
  token: string;
  name: string;
  labels: string[];
  runnerGroup: string;
  ephemeral: boolean;
}): string {
  const command =
    `./config.sh --url ${options.githubUrl} --token ${options.token} --name ${options.name} ` +
    `--labels ${options.labels.join(',')} --runnergroup ${shellWord(options.runnerGroup)}`;
  return options.ephemeral ? `${command} --ephemeral` : command;
}

/** One shell word: as it is when it holds only safe characters, else single-quoted. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._\/:@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function toProvisionRunnerResponse(
  runner: Pick<RunnerEntity, 'id' | 'name' | 'labels' | 'ephemeral' | 'runnerGroupId'>,
  token: { token: string; expiresAt: Date },
  githubUrl: string,
  runnerGroup: string,
): ProvisionRunnerResponseDto {
  return {
    runner_id: runner.id,
    runner_name: runner.name,
    registration_token: token.token,
    expires_at: token.expiresAt.toISOString(),
    github_url: githubUrl,
    runner_group_id: runner.runnerGroupId,
    ephemeral: runner.ephemeral,
    labels: runner.labels,
    configuration_command: configurationCommand({
      githubUrl,
      token: token.token,
      name: runner.name,
      labels: runner.labels,
      runnerGroup,
      ephemeral: runner.ephemeral,
    }),
  };
}
