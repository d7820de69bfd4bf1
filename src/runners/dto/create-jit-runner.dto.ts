import { JIT_LABEL_RULE } from '../runner-input.rules.js';
import { JitRunnerNameField, OptionalLabelsField, RunnerGroupIdField, RunnerNamePrefixField, WorkFolderField } from './runner-fields.js';

export class CreateJitRunnerDto {
  @JitRunnerNameField()
  runner_name?: string;

  @RunnerNamePrefixField()
  runner_name_prefix?: string;

  @OptionalLabelsField({
    description:
      `Labels for the runner, after the system labels the service adds first. Trimmed, lower-cased and ` +
      `de-duplicated: ${JIT_LABEL_RULE}. The access policy decides which are allowed; under a ` +
      '`bind_to_run` grant send none (the runner gets exactly one label, run-<run_id>-<run_attempt>).',
    example: ['podman', 'linux'],
  })
  labels: string[] = [];

  @RunnerGroupIdField('The runner group; one the access policy grants (its first is the default; without a policy, only the configured group).')
  runner_group_id?: number;

  @WorkFolderField()
  work_folder?: string;
}
