import { LABEL_RULE, RUNNER_NAME_RULE } from '../runner-input.rules.js';
import { EphemeralField, LabelsField, RequiredRunnerNameField, RunnerGroupIdField } from './runner-fields.js';

export class ProvisionRunnerDto {
  @RequiredRunnerNameField({
    description:
      `The runner's name, unique in the org: ${RUNNER_NAME_RULE}. Pass the same name to \`./config.sh --name\`. ` +
      'Asking again for your own runner that is still pending (never seen on GitHub) replaces it.',
    example: 'gpu-worker-001',
  })
  runner_name: string;

  @LabelsField({
    description:
      `Labels for \`./config.sh --labels\`. Trimmed, lower-cased and de-duplicated: ${LABEL_RULE}. ` +
      'config.sh adds the system labels (self-hosted, OS, architecture) itself.',
    example: ['gpu', 'ubuntu-22.04', 'cuda-11.8'],
  })
  labels: string[];

  @RunnerGroupIdField(
    'The runner group, one the access policy grants (its first is the default; without a policy, only the ' +
      'configured group). configuration_command passes its name to `./config.sh --runnergroup`.',
  )
  runner_group_id?: number;

  @EphemeralField(
    'Whether configuration_command registers an ephemeral runner (`--ephemeral`: one job, then GitHub removes it). ' +
      'Default true, the safer choice. The token itself does not enforce it: see POST /runners/jit for that.',
  )
  ephemeral?: boolean;
}
