import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  MinLength,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';
import {
  LABEL_MAX_LENGTH,
  LABEL_PATTERN,
  LABEL_RULE,
  MAX_LABELS,
  RUNNER_NAME_MAX_LENGTH,
  RUNNER_NAME_PATTERN,
  RUNNER_NAME_PREFIX_MAX_LENGTH,
  RUNNER_NAME_PREFIX_RULE,
  RUNNER_NAME_RULE,
  WORK_FOLDER_MAX_LENGTH,
  WORK_FOLDER_PATTERN,
  WORK_FOLDER_RULE,
  normaliseLabels,
} from '../runner-rules.js';

/**
 * A name field that may be absent; when present, a string of the allowed characters and length.
 * (class-validator's IsOptional/ValidateIf would also skip ExactlyOneNameField on an absent field.)
 */
function OptionalName(maxLength: number, message: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'optionalName',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message },
      validator: {
        validate: (value: unknown) =>
          value === undefined ||
          (typeof value === 'string' && value.length <= maxLength && RUNNER_NAME_PATTERN.test(value)),
      },
    });
  };
}

/** Exactly one of the two name fields must be present. */
function ExactlyOneNameField(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'exactlyOneNameField',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'send exactly one of runner_name or runner_name_prefix' },
      validator: {
        validate(_value: unknown, args: ValidationArguments) {
          const body = args.object as CreateJitRunnerDto;
          return (body.runner_name === undefined) !== (body.runner_name_prefix === undefined);
        },
      },
    });
  };
}

export class CreateJitRunnerDto {
  @ApiPropertyOptional({
    description: `The runner's name, unique in the org: ${RUNNER_NAME_RULE}. Send this or runner_name_prefix.`,
    example: 'secure-worker-001',
    maxLength: RUNNER_NAME_MAX_LENGTH,
    pattern: RUNNER_NAME_PATTERN.source,
  })
  @ExactlyOneNameField()
  @OptionalName(RUNNER_NAME_MAX_LENGTH, `runner_name must be ${RUNNER_NAME_RULE}`)
  runner_name?: string;

  @ApiPropertyOptional({
    description: `A name prefix; the service adds "-" and 6 random hex characters: ${RUNNER_NAME_PREFIX_RULE}. Send this or runner_name.`,
    example: 'podman-runner',
    maxLength: RUNNER_NAME_PREFIX_MAX_LENGTH,
    pattern: RUNNER_NAME_PATTERN.source,
  })
  @OptionalName(RUNNER_NAME_PREFIX_MAX_LENGTH, `runner_name_prefix must be ${RUNNER_NAME_PREFIX_RULE}`)
  runner_name_prefix?: string;

  @ApiProperty({
    description:
      `Labels for the runner, after the system labels the service adds first. Trimmed, lower-cased and ` +
      `de-duplicated: ${LABEL_RULE}.`,
    example: ['podman', 'linux'],
    type: [String],
    minItems: 1,
    maxItems: MAX_LABELS,
  })
  @Transform(({ value }) => normaliseLabels(value))
  @IsArray({ message: `labels must be an array: ${LABEL_RULE}` })
  @ArrayMinSize(1, { message: `labels must hold ${LABEL_RULE}` })
  @ArrayMaxSize(MAX_LABELS, { message: `labels must hold ${LABEL_RULE}` })
  @IsString({ each: true, message: `labels must hold ${LABEL_RULE}` })
  @MinLength(1, { each: true, message: `labels must hold ${LABEL_RULE}; an empty label is not allowed` })
  @MaxLength(LABEL_MAX_LENGTH, { each: true, message: `labels must hold ${LABEL_RULE}` })
  @Matches(LABEL_PATTERN, { each: true, message: `labels must hold ${LABEL_RULE}` })
  labels: string[];

  @ApiPropertyOptional({
    description: "The runner group; only the service's configured group is accepted (default 1).",
    example: 1,
    minimum: 1,
  })
  @IsOptional()
  @IsInt({ message: 'runner_group_id must be a whole number' })
  @Min(1, { message: 'runner_group_id must be at least 1' })
  runner_group_id?: number;

  @ApiPropertyOptional({
    description: `The runner's work folder: ${WORK_FOLDER_RULE}.`,
    example: '_work',
    default: '_work',
    maxLength: WORK_FOLDER_MAX_LENGTH,
  })
  @IsOptional()
  @IsString({ message: 'work_folder must be a string' })
  @MaxLength(WORK_FOLDER_MAX_LENGTH, { message: `work_folder must be ${WORK_FOLDER_RULE}` })
  @Matches(WORK_FOLDER_PATTERN, { message: `work_folder must be ${WORK_FOLDER_RULE}` })
  work_folder?: string;
}
