import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsOptional, IsString, MaxLength } from 'class-validator';
import { OptionalBoolean } from '../../common/validation.js';
import { ISSUER_RULE, RULE_RULE, SUBJECT_RULE } from '../../suspensions/suspension-target.js';

export const REASON_MAX_LENGTH = 500;

/**
 * A selector field: accepted as it comes here (Allow), checked with the other selector fields by
 * suspensionTargetOf, which says which form to send when the combination is wrong.
 */
function SelectorField(doc: { description: string; example: string }): PropertyDecorator {
  return applyDecorators(Allow(), ApiPropertyOptional(doc));
}

/** Who a suspension is for: `{issuer, subject}` (one identity) or `{rule}` (everyone a policy rule matched). */
export class IdentitySelectorDto {
  @SelectorField({ description: `With subject: ${ISSUER_RULE}`, example: 'https://token.actions.githubusercontent.com' })
  issuer?: string;

  @SelectorField({ description: `With issuer: ${SUBJECT_RULE}`, example: 'repo:my-org/api:ref:refs/heads/main' })
  subject?: string;

  @SelectorField({ description: `Alone: ${RULE_RULE}; everyone the rule matched`, example: 'ci-main-repos' })
  rule?: string;
}

export class SuspendIdentityDto extends IdentitySelectorDto {
  @OptionalBoolean()
  @ApiPropertyOptional({
    description:
      'Also remove the runners of the identity (or of the rule) from GitHub now; runners running a job are left and listed as busy',
    default: false,
    type: Boolean,
  })
  remove_runners?: boolean;

  @MaxLength(REASON_MAX_LENGTH, { message: `reason must be at most ${REASON_MAX_LENGTH} characters` })
  @IsString({ message: `reason must be a string of at most ${REASON_MAX_LENGTH} characters` })
  @IsOptional()
  @ApiPropertyOptional({
    description: 'Why, for the other admins and the audit trail (never shown to the suspended caller)',
    maxLength: REASON_MAX_LENGTH,
    example: 'Leaked token, see INC-1234',
  })
  reason?: string;
}

export class ResumeIdentityDto extends IdentitySelectorDto {}
