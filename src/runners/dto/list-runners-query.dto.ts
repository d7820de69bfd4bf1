import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import { UUID_PATTERN } from '../../common/text.js';
import { RUNNER_STATUSES, type RunnerStatus } from '../runner.entity.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
/** A cursor is the base64url of the last runner's id: opaque to callers, cheap to check. */
export const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const CURSOR_RULE = "cursor must be a previous page's next_cursor, unchanged";

export class ListRunnersQueryDto {
  @ApiPropertyOptional({
    enum: RUNNER_STATUSES,
    description: 'Only runners in this status. Without it: every runner that is not deleted or failed.',
  })
  @IsOptional()
  @IsIn(RUNNER_STATUSES, { message: `status must be one of ${RUNNER_STATUSES.join(', ')}` })
  status?: RunnerStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: 'Runners per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  @Max(MAX_PAGE_SIZE, { message: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's next_cursor, to get the page after it" })
  @IsOptional()
  @IsString()
  @Matches(CURSOR_PATTERN, { message: CURSOR_RULE })
  cursor?: string;
}

export function encodeCursor(runnerId: string): string {
  return Buffer.from(runnerId, 'utf8').toString('base64url');
}

/** The runner id a cursor continues after; a cursor that is not one of ours is a 400. */
export function decodeCursor(cursor: string): string {
  const runnerId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID_PATTERN.test(runnerId)) {
    throw new DomainError(ERROR_CODES.VALIDATION_FAILED, CURSOR_RULE, { violations: [{ field: 'cursor', message: CURSOR_RULE }] });
  }
  return runnerId;
}
