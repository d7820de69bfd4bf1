import type { RunnerStatus } from '../runner.entity.js';
import { CursorField, PageLimitField, StatusFilterField } from './runner-fields.js';

export class ListRunnersQueryDto {
  @StatusFilterField()
  status?: RunnerStatus;

  @PageLimitField()
  limit?: number;

  @CursorField()
  cursor?: string;
}
