/**
 * The fields of the runner requests (the provisioning bodies, the list's query), each one decorator that documents the field (OpenAPI) and
 * validates it with a message that names the field and its rule. The DTOs only declare them.
 *
 * Each decorator lists its parts in the order they are applied, which is the order class-validator
 * checks them (the first failure is the field's one message).
 */
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';
import { CURSOR_RULE } from '../../common/page-cursor.js';
import { OptionalBoolean, WholeNumber } from '../../common/validation.js';
import {
  DEFAULT_EPHEMERAL,
  LABEL_INPUT_PATTERN,
  LABEL_MAX_LENGTH,
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
} from '../runner-input.rules.js';
import { RUNNER_STATUSES } from '../runner.entity.js';

export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;
/** A cursor is the base64url of the last runner's id: opaque to callers, cheap to check. */
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const isName = (value: unknown, maxLength: number): boolean =>
  typeof value === 'string' && value.length <= maxLength && RUNNER_NAME_PATTERN.test(value);

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
      validator: { validate: (value: unknown) => value === undefined || isName(value, maxLength) },
    });
  };
}

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
      validator: { validate: (value: unknown) => isName(value, RUNNER_NAME_MAX_LENGTH) },
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
          const body = args.object as { runner_name?: unknown; runner_name_prefix?: unknown };
          return (body.runner_name === undefined) !== (body.runner_name_prefix === undefined);
        },
      },
    });
  };
}

/** The label list, with one message that names the first bad label and its position. */
function LabelList(minimum: 0 | 1): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'labelList',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: (args: ValidationArguments) => describeLabelsProblem(args.value, minimum) ?? '' },
      validator: { validate: (value: unknown) => describeLabelsProblem(value, minimum) === null },
    });
  };
}

/** `runner_name` of a JIT request: optional, but exactly one of it and `runner_name_prefix`. */
export function JitRunnerNameField(): PropertyDecorator {
  return applyDecorators(
    OptionalName(RUNNER_NAME_MAX_LENGTH, `runner_name must be ${RUNNER_NAME_RULE}`),
    ExactlyOneNameField(),
    ApiPropertyOptional({
      description: `The runner's name, unique in the org: ${RUNNER_NAME_RULE}. Send this or runner_name_prefix.`,
      example: 'secure-worker-001',
      maxLength: RUNNER_NAME_MAX_LENGTH,
      pattern: RUNNER_NAME_PATTERN.source,
    }),
  );
}

/** `runner_name_prefix` of a JIT request. */
export function RunnerNamePrefixField(): PropertyDecorator {
  return applyDecorators(
    OptionalName(RUNNER_NAME_PREFIX_MAX_LENGTH, `runner_name_prefix must be ${RUNNER_NAME_PREFIX_RULE}`),
    ApiPropertyOptional({
      description: `A name prefix; the service adds "-" and 6 random hex characters: ${RUNNER_NAME_PREFIX_RULE}. Send this or runner_name.`,
      example: 'podman-runner',
      maxLength: RUNNER_NAME_PREFIX_MAX_LENGTH,
      pattern: RUNNER_NAME_PATTERN.source,
    }),
  );
}

/** A required `runner_name` (the registration-token request). */
export function RequiredRunnerNameField(doc: { description: string; example: string }): PropertyDecorator {
  return applyDecorators(
    RequiredName(),
    ApiProperty({ ...doc, maxLength: RUNNER_NAME_MAX_LENGTH, pattern: RUNNER_NAME_PATTERN.source }),
  );
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
    LabelList(1),
  );
}

/** The `labels` of a JIT request: as LabelsField, but optional (none is an empty list). */
export function OptionalLabelsField(doc: { description: string; example: string[] }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      ...doc,
      type: 'array',
      items: { type: 'string', pattern: LABEL_INPUT_PATTERN.source, maxLength: LABEL_MAX_LENGTH },
      maxItems: MAX_LABELS,
      default: [],
    }),
    Transform(({ value }) => (value === undefined || value === null ? [] : normaliseLabels(value))),
    LabelList(0),
  );
}

/** `runner_group_id`: optional, a whole number of at least 1. */
export function RunnerGroupIdField(description: string): PropertyDecorator {
  return applyDecorators(
    WholeNumber(1),
    IsOptional(),
    ApiPropertyOptional({ description, example: 1, type: 'integer', minimum: 1 }),
  );
}

/** `work_folder`: optional, a relative path below the runner's folder. */
export function WorkFolderField(): PropertyDecorator {
  return applyDecorators(
    Matches(WORK_FOLDER_PATTERN, { message: `work_folder must be ${WORK_FOLDER_RULE}` }),
    MaxLength(WORK_FOLDER_MAX_LENGTH, { message: `work_folder must be ${WORK_FOLDER_RULE}` }),
    IsString({ message: 'work_folder must be a string' }),
    IsOptional(),
    ApiPropertyOptional({
      description: `The runner's work folder: ${WORK_FOLDER_RULE}.`,
      example: '_work',
      default: '_work',
      maxLength: WORK_FOLDER_MAX_LENGTH,
      pattern: WORK_FOLDER_PATTERN.source,
    }),
  );
}

/** `ephemeral` of a registration-token request: optional, a JSON boolean. */
export function EphemeralField(description: string): PropertyDecorator {
  return applyDecorators(
    OptionalBoolean(),
    ApiPropertyOptional({ description, example: true, default: DEFAULT_EPHEMERAL, type: Boolean }),
  );
}

/** `status` of a list: one status, or (absent) every runner that is not deleted or failed. */
export function StatusFilterField(): PropertyDecorator {
  return applyDecorators(
    IsIn(RUNNER_STATUSES, { message: `status must be one of ${RUNNER_STATUSES.join(', ')}` }),
    IsOptional(),
    ApiPropertyOptional({
      enum: RUNNER_STATUSES,
      description: 'Only runners in this status. Without it: every runner that is not deleted or failed.',
    }),
  );
}

/** `limit` of a list: rows per page (runners unless told), a whole number from the query string. */
export function PageLimitField(description = 'Runners per page'): PropertyDecorator {
  const message = `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
  return applyDecorators(
    Max(MAX_PAGE_SIZE, { message }),
    Min(1, { message }),
    IsInt({ message }),
    Type(() => Number),
    IsOptional(),
    ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description }),
  );
}

/** `cursor` of a list: the previous page's next_cursor. */
export function CursorField(): PropertyDecorator {
  return applyDecorators(
    Matches(CURSOR_PATTERN, { message: CURSOR_RULE }),
    IsString(),
    IsOptional(),
    ApiPropertyOptional({ description: "The previous page's next_cursor, to get the page after it" }),
  );
}
