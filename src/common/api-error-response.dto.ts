import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ApiErrorDto {
  @ApiProperty({ description: 'A stable machine-readable code', example: 'RUNNER_NAME_TAKEN' })
  code: string;

  @ApiProperty({ description: 'What went wrong and what to change', example: 'The runner name "x" is taken by another runner; choose another runner_name' })
  message: string;

  @ApiPropertyOptional({ description: 'Structured details: the fields that failed validation, GitHub status, retry_after_seconds…', type: Object })
  details?: unknown;
}

/** The one error shape of every endpoint. */
export class ApiErrorResponseDto {
  @ApiProperty({ type: ApiErrorDto })
  error: ApiErrorDto;

  @ApiProperty({ type: String, nullable: true, description: 'Quote it when reporting a problem (also the x-request-id header)' })
  request_id: string | null;
}
