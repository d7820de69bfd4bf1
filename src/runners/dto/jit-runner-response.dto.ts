import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { RunnerEntity } from '../runner.entity.js';

@ApiSchema({
  description:
    'The runner is registered on GitHub and pending: start it with run_command (or pass encoded_jit_config to ' +
    '`./run.sh --jitconfig`) before expires_at. The config is shown only in this answer.',
})
export class JitRunnerResponseDto {
  @ApiProperty({ description: "The service's id for the runner (use it in /runners/{id} calls)", format: 'uuid' })
  runner_id: string;

  @ApiProperty({ example: 'podman-runner-a1b2c3' })
  runner_name: string;

  @ApiProperty({
    description:
      'The JIT config: a secret that carries the runner\'s private key. Pass it to `./run.sh --jitconfig` ' +
      '(or ACTIONS_RUNNER_INPUT_JITCONFIG, which keeps it out of `ps`). It is shown once and never stored.',
  })
  encoded_jit_config: string;

  @ApiProperty({
    type: [String],
    description: 'The labels GitHub registered: the system labels first, then the requested ones',
    example: ['self-hosted', 'linux', 'x64', 'podman'],
  })
  labels: string[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      'Start the runner before this time (issued + JIT_START_TIMEOUT_MINUTES, 60 by default): a runner not online by ' +
      'then is removed from GitHub by the next cleanup and marked deleted with deletion_reason never_started',
  })
  expires_at: string;

  @ApiProperty({ example: './run.sh --jitconfig <encoded_jit_config>' })
  run_command: string;
}

export function toJitRunnerResponse(runner: RunnerEntity, encodedJitConfig: string): JitRunnerResponseDto {
  return {
    runner_id: runner.id,
    runner_name: runner.name,
    encoded_jit_config: encodedJitConfig,
    labels: runner.labels,
    expires_at: (runner.expiresAt ?? new Date()).toISOString(),
    run_command: `./run.sh --jitconfig ${encodedJitConfig}`,
  };
}
