import { ApiProperty } from '@nestjs/swagger';
import { RunnerRemovalReportDto } from '../../runners/dto/runner-removal-report.dto.js';
import { SUSPENSION_KINDS, SuspensionResponseDto, type SuspensionKind } from '../../suspensions/dto/suspension-response.dto.js';

/** The answer to a suspension: the suspension in force, and what removing the runners came to. */
export class SuspendIdentityResponseDto extends SuspensionResponseDto {
  @ApiProperty({ description: 'The target was suspended already: nothing about the suspension changed (the first one stands)' })
  already_suspended: boolean;

  @ApiProperty({
    type: RunnerRemovalReportDto,
    nullable: true,
    description: 'With remove_runners: the runners removed, left because busy, or not removed because GitHub failed; null without',
  })
  runner_removal: RunnerRemovalReportDto | null;
}

/** The answer to a resume: what was named, and the suspension lifted (null: it was not suspended, nothing changed). */
export class ResumeIdentityResponseDto {
  @ApiProperty({ enum: SUSPENSION_KINDS })
  kind: SuspensionKind;

  @ApiProperty({ type: String, nullable: true })
  issuer: string | null;

  @ApiProperty({ type: String, nullable: true })
  subject: string | null;

  @ApiProperty({ type: String, nullable: true })
  rule: string | null;

  @ApiProperty({ description: 'False when the target was not suspended: the request changed nothing' })
  was_suspended: boolean;

  @ApiProperty({ type: SuspensionResponseDto, nullable: true, description: 'The suspension this request lifted' })
  lifted: SuspensionResponseDto | null;
}
