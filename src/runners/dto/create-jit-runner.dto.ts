import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength, registerDecorator, type ValidationArguments } from 'class-validator';
import {
  LABEL_INPUT_PATTERN,
  LABEL_MAX_LENGTH,
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
  describeLabelsProblem,
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

/** The label list, with one message that names the first bad label and its position. */
function LabelList(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'labelList',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (args: ValidationArguments) => describeLabelsProblem(args.value) ?? '' },
      validator: { validate: (value: unknown) => describeLabelsProblem(value) === null },
    });
  };
}

/**
 * The `labels` field of both provisioning bodies: documented with its rules, normalised (trimmed,
 * lower-cased), then checked with one message naming the first bad label.
 */
export function LabelsField(doc: { description: string; example: string[] }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      ...doc,
      type: 'array',
      items: { type: 'string', pattern: LABEL_INPUT_PATTERN.source, maxLength: LABEL_MAX_LENGTH },
      minItems: 1,
      maxItems: MAX_LABELS,
    }),
    Transform(({ value }) => normaliseLabels(value)),
    LabelList(),
  );
}

/**
 * A whole number of at least `minimum`, with one message. A number sent as a string ("1") is the
 * usual mistake, so its message says so.
 */
function WholeNumber(minimum: number): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const field = String(propertyName);
    registerDecorator({
      name: 'wholeNumber',
      target: target.constructor,
      propertyName: field,
      options: {
        message: ({ value }: ValidationArguments) =>
          typeof value === 'string'
            ? `${field} must be a whole number (a JSON number, not a string)`
            : Number.isInteger(value)
              ? `${field} must be at least ${minimum}`
              : `${field} must be a whole number`,
      },
      validator: { validate: (value: unknown) => Number.isInteger(value) && (value as number) >= minimum },
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

  @LabelsField({
    description:
      `Labels for the runner, after the system labels the service adds first. Trimmed, lower-cased and ` +
      `de-duplicated: ${LABEL_RULE}.`,
    example: ['podman', 'linux'],
  })
  labels: string[];

  @ApiPropertyOptional({
    description: "The runner group; only the service's configured group is accepted (default 1).",
    example: 1,
    type: 'integer',
    minimum: 1,
  })
  @IsOptional()
  @WholeNumber(1)
  runner_group_id?: number;

  @ApiPropertyOptional({
    description: `The runner's work folder: ${WORK_FOLDER_RULE}.`,
    example: '_work',
    default: '_work',
    maxLength: WORK_FOLDER_MAX_LENGTH,
    pattern: WORK_FOLDER_PATTERN.source,
  })
  @IsOptional()
  @IsString({ message: 'work_folder must be a string' })
  @MaxLength(WORK_FOLDER_MAX_LENGTH, { message: `work_folder must be ${WORK_FOLDER_RULE}` })
  @Matches(WORK_FOLDER_PATTERN, { message: `work_folder must be ${WORK_FOLDER_RULE}` })
  work_folder?: string;
}
