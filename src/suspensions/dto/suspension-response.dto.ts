import { ApiProperty } from '@nestjs/swagger';
import type { SuspensionEntity } from '../suspension.entity.js';

export const SUSPENSION_KINDS = ['identity', 'rule'] as const;
export type SuspensionKind = (typeof SUSPENSION_KINDS)[number];

/** A suspension in force. */
export class SuspensionResponseDto {
  @ApiProperty({ enum: SUSPENSION_KINDS, description: 'identity: one issuer + subject; rule: everyone a policy rule matched' })
  kind: SuspensionKind;

  @ApiProperty({ type: String, nullable: true, description: "The identity's token iss (kind identity)", example: 'https://login.example.com' })
  issuer: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The identity's token sub (kind identity)", example: 'user-1234' })
  subject: string | null;

  @ApiProperty({ type: String, nullable: true, description: "The policy rule's name (kind rule)", example: 'ci-main-repos' })
  rule: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  suspended_at: string;

  @ApiProperty({ description: 'Who suspended it: an admin\'s name, or system:cli', example: 'admin@example.com' })
  suspended_by: string;

  @ApiProperty({ type: String, nullable: true, description: 'Why, as the admin gave it (never shown to the suspended caller)' })
  reason: string | null;
}

export class SuspensionListResponseDto {
  @ApiProperty({ type: [SuspensionResponseDto], description: 'Every suspension in force, newest first' })
  suspensions: SuspensionResponseDto[];
}

export function toSuspensionResponse(suspension: SuspensionEntity): SuspensionResponseDto {
  return {
    kind: suspension.rule === null ? 'identity' : 'rule',
    issuer: suspension.issuer,
    subject: suspension.subject,
    rule: suspension.rule,
    suspended_at: suspension.createdAt.toISOString(),
    suspended_by: suspension.createdBy,
    reason: suspension.reason,
  };
}
