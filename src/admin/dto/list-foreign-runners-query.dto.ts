import { CursorField, PageLimitField } from '../../runners/dto/runner-fields.js';

export class ListForeignRunnersQueryDto {
  @PageLimitField('Foreign runners per page')
  limit?: number;

  @CursorField()
  cursor?: string;
}
