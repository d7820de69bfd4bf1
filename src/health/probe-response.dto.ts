import { ApiProperty } from '@nestjs/swagger';
import type { Readiness } from './readiness.service.js';

export class LivenessResponseDto {
  @ApiProperty({ enum: ['ok'], description: 'The process answers; nothing else is checked' })
  status: 'ok';
}

export class ReadinessChecksDto {
  @ApiProperty({ enum: ['ok', 'down'], description: 'The database answered SELECT 1 within 2 s' })
  database: 'ok' | 'down';

  @ApiProperty({
    enum: ['ok', 'pending', 'unknown'],
    description: 'Every migration this version knows is applied (pending: run init-db; unknown: the database did not say)',
  })
  migrations: 'ok' | 'pending' | 'unknown';

  @ApiProperty({ enum: ['ok', 'down'], description: 'An access policy is in force (a reload that fails keeps the previous one)' })
  policy: 'ok' | 'down';

  @ApiProperty({ enum: ['ok', 'draining'], description: 'draining from the first moment of a shutdown (SIGTERM)' })
  shutdown: 'ok' | 'draining';
}

/** GET /readyz: whether this instance should receive requests, and each check's result. */
export class ReadinessResponseDto {
  @ApiProperty({ enum: ['ok', 'unavailable'], description: 'ok (200) when every check is ok, else unavailable (503)' })
  status: 'ok' | 'unavailable';

  @ApiProperty({ type: ReadinessChecksDto })
  checks: ReadinessChecksDto;
}

export function toReadinessResponse(readiness: Readiness): ReadinessResponseDto {
  return { status: readiness.ready ? 'ok' : 'unavailable', checks: { ...readiness.checks } };
}
