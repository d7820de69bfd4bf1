import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { CursorField, PageLimitField, StatusFilterField } from '../../runners/dto/runner-fields.js';
import { LABEL_ITEM_RULE, LABEL_MAX_LENGTH, LABEL_PATTERN } from '../../runners/runner-input.rules.js';
import type { RunnerStatus } from '../../runners/runner.entity.js';
import { RULE_MAX_LENGTH, SUBJECT_MAX_LENGTH } from '../../suspensions/suspension-target.js';

const NOT_BLANK = /\S/;

/** A text filter of the query string: one value, not blank, at most `maxLength` characters. */
function TextFilterField(field: string, maxLength: number, doc: { description: string; example: string }): PropertyDecorator {
  const message = `${field} must be ${doc.description.charAt(0).toLowerCase()}${doc.description.slice(1)}: 1 to ${maxLength} characters`;
  return applyDecorators(
    Matches(NOT_BLANK, { message }),
    MaxLength(maxLength, { message }),
    IsString({ message }),
    IsOptional(),
    ApiPropertyOptional({ ...doc, maxLength }),
  );
}

/** `label`: one label, compared as stored (lower-case). */
function LabelFilterField(): PropertyDecorator {
  const message = `label must be one label: ${LABEL_ITEM_RULE}`;
  return applyDecorators(
    Matches(LABEL_PATTERN, { message }),
    MaxLength(LABEL_MAX_LENGTH, { message }),
    IsString({ message }),
    Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsOptional(),
    ApiPropertyOptional({ description: 'Only runners with this label (any case)', example: 'gpu', maxLength: LABEL_MAX_LENGTH }),
  );
}

export class ListAdminRunnersQueryDto {
  @TextFilterField('owner', SUBJECT_MAX_LENGTH, {
    description: "An owner's display name (e.g. an email) or token subject",
    example: 'alice@example.com',
  })
  owner?: string;

  @TextFilterField('rule', RULE_MAX_LENGTH, { description: 'The name of the policy rule that allowed the runners', example: 'ci-main-repos' })
  rule?: string;

  @StatusFilterField()
  status?: RunnerStatus;

  @LabelFilterField()
  label?: string;

  @PageLimitField()
  limit?: number;

  @CursorField()
  cursor?: string;
}
