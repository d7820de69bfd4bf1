// Placeholder: the registration-token work replaces this file.
export class ProvisionRunnerResponseDto {
  runner_id: string;
}
