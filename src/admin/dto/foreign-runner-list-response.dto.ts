import { ApiProperty } from '@nestjs/swagger';
import { ForeignRunnerResponseDto } from '../../runners/dto/foreign-runner-response.dto.js';

/** GET /admin/foreign-runners: the org's runners that this service did not issue, paged as the other admin lists. */
export class ForeignRunnerListResponseDto {
  @ApiProperty({ type: [ForeignRunnerResponseDto], description: 'Newest first (by when a sync first found them)' })
  foreign_runners: ForeignRunnerResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= (with the same limit) for the next page; null on the last page',
  })
  next_cursor: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The next page as a path with its query; null on the last page' })
  next: string | null;
}
