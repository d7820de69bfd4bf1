import { ApiProperty } from '@nestjs/swagger';
import { AdminRunnerResponseDto } from '../../runners/dto/admin-runner-response.dto.js';

/** GET /admin/runners: the shape of GET /runners, each runner with its owner. */
export class AdminRunnerListResponseDto {
  @ApiProperty({ type: [AdminRunnerResponseDto], description: 'Newest first' })
  runners: AdminRunnerResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= (with the same filters and limit) for the next page; null on the last page',
  })
  next_cursor: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The next page as a path with its query; null on the last page' })
  next: string | null;
}
