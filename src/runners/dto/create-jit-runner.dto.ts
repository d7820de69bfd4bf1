import { LABEL_RULE } from '../runner-input.rules.js';
import { JitRunnerNameField, LabelsField, RunnerGroupIdField, RunnerNamePrefixField, WorkFolderField } from './runner-fields.js';

export class CreateJitRunnerDto {
  @JitRunnerNameField()
  runner_name?: string;

  @RunnerNamePrefixField()
  runner_name_prefix?: string;

  @LabelsField({
    description:
      `Labels for the runner, after the system labels the service adds first. Trimmed, lower-cased and ` +
      `de-duplicated: ${LABEL_RULE}.`,
    example: ['podman', 'linux'],
  })
  labels: string[];

  @RunnerGroupIdField("The runner group; only the service's configured group is accepted (default 1).")
  runner_group_id?: number;

  @WorkFolderField()
  work_folder?: string;
}
