import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import { UUID_PATTERN } from '../../common/text.js';
import type { RunnerStatus } from '../runner.entity.js';
import { CURSOR_RULE, CursorField, PageLimitField, StatusFilterField } from './runner-fields.js';

export class ListRunnersQueryDto {
  @StatusFilterField()
  status?: RunnerStatus;

  @PageLimitField()
  limit?: number;

  @CursorField()
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
