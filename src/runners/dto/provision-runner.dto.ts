import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { registerDecorator, type ValidationArguments } from 'class-validator';
import {
  LABEL_RULE,
  RUNNER_NAME_MAX_LENGTH,
  RUNNER_NAME_PATTERN,
  RUNNER_NAME_RULE,
} from '../runner-rules.js';
import { LabelsField } from './create-jit-runner.dto.js';

/** A registration-token runner is ephemeral unless the caller asks otherwise: one job, then gone. */
export const DEFAULT_EPHEMERAL = true;

/** A required runner name: a string of the allowed characters and length, with one message. */
function RequiredName(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const field = String(propertyName);
    registerDecorator({
      name: 'requiredName',
      target: target.constructor,
      propertyName: field,
      options: {
        message: ({ value }: ValidationArguments) =>
          value === undefined || value === null ? `${field} is required: ${RUNNER_NAME_RULE}` : `${field} must be ${RUNNER_NAME_RULE}`,
      },
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && value.length <= RUNNER_NAME_MAX_LENGTH && RUNNER_NAME_PATTERN.test(value),
      },
    });
  };
}

/** A JSON boolean when present. (IsOptional would also let null through, which means nothing here.) */
function OptionalBoolean(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const field = String(propertyName);
    registerDecorator({
      name: 'optionalBoolean',
      target: target.constructor,
      propertyName: field,
      options: { message: `${field} must be true or false (a JSON boolean), or left out` },
      validator: { validate: (value: unknown) => value === undefined || typeof value === 'boolean' },
    });
  };
}

export class ProvisionRunnerDto {
  @ApiProperty({
    description:
      `The runner's name, unique in the org: ${RUNNER_NAME_RULE}. Pass the same name to \`./config.sh --name\`. ` +
      'Asking again for your own runner that is still pending (never seen on GitHub) replaces it.',
    example: 'gpu-worker-001',
    maxLength: RUNNER_NAME_MAX_LENGTH,
    pattern: RUNNER_NAME_PATTERN.source,
  })
  @RequiredName()
  runner_name: string;

  @LabelsField({
    description:
      `Labels for \`./config.sh --labels\`. Trimmed, lower-cased and de-duplicated: ${LABEL_RULE}. ` +
      'config.sh adds the system labels (self-hosted, OS, architecture) itself.',
    example: ['gpu', 'ubuntu-22.04', 'cuda-11.8'],
  })
  labels: string[];

  @ApiPropertyOptional({
    description:
      'Whether configuration_command registers an ephemeral runner (`--ephemeral`: one job, then GitHub removes it). ' +
      'Default true, the safer choice. The token itself does not enforce it: see POST /runners/jit for that.',
    example: true,
    default: DEFAULT_EPHEMERAL,
    type: Boolean,
  })
  @OptionalBoolean()
  ephemeral?: boolean;
}
