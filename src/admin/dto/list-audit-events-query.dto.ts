import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDate, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { EVENT_TYPE_EXAMPLES, EVENT_TYPE_PATTERN } from '../../audit/audit-filter.rules.js';
import { readInstant } from '../../common/instant.js';
import { CursorField, PageLimitField } from '../../runners/dto/runner-fields.js';

const USER_MAX_LENGTH = 1024;
const SINCE_RULE =
  'since must be a date (since=2026-01-01, meaning midnight UTC) or a date-time with its zone (since=2026-01-01T12:00:00Z)';
const EVENT_TYPE_RULE = `event_type must be an action or the start of one before "_", such as ${EVENT_TYPE_EXAMPLES}`;
const USER_RULE = `user must be an actor's display name or subject: 1 to ${USER_MAX_LENGTH} characters`;

/** `since`: read as the CLI's --since reads it; a value that is not an instant stays a string and fails IsDate. */
function SinceField(): PropertyDecorator {
  return applyDecorators(
    IsDate({ message: SINCE_RULE }),
    Transform(({ value }) => (typeof value === 'string' ? (readInstant(value) ?? value) : value)),
    IsOptional(),
    ApiPropertyOptional({
      description:
        'Events at or after this instant: a date (midnight UTC) or an ISO 8601 date-time with its zone ' +
        '(write a + offset as %2B in a URL)',
      example: '2026-01-01T12:00:00Z',
    }),
  );
}

/** `event_type`: trimmed and lower-cased, as the CLI's --event-type. */
function EventTypeField(): PropertyDecorator {
  return applyDecorators(
    Matches(EVENT_TYPE_PATTERN, { message: EVENT_TYPE_RULE }),
    IsString({ message: EVENT_TYPE_RULE }),
    Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsOptional(),
    ApiPropertyOptional({
      description: 'Events of this action, or of the actions starting with it and "_" (provision: provision and provision_jit)',
      example: 'suspend',
    }),
  );
}

function UserField(): PropertyDecorator {
  return applyDecorators(
    Matches(/\S/, { message: USER_RULE }),
    MaxLength(USER_MAX_LENGTH, { message: USER_RULE }),
    IsString({ message: USER_RULE }),
    IsOptional(),
    ApiPropertyOptional({ description: "Events of this actor: their display name (e.g. an email) or subject", example: 'alice@example.com' }),
  );
}

/** The filters of `export-audit-log`, a page at a time. */
export class ListAuditEventsQueryDto {
  @SinceField()
  since?: Date;

  @EventTypeField()
  event_type?: string;

  @UserField()
  user?: string;

  @PageLimitField('Events per page')
  limit?: number;

  @CursorField()
  cursor?: string;
}
