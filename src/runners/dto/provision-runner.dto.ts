// Placeholder: the registration-token work replaces this file.
export class ProvisionRunnerDto {
  runner_name: string;
  labels: string[];
  ephemeral?: boolean;
}
