import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Grant, LabelMatcher } from '../../policy/policy.types.js';

export class MeIdentityDto {
  @ApiProperty({ description: "The token's issuer (iss)", example: 'https://token.actions.githubusercontent.com' })
  issuer: string;

  @ApiProperty({ description: "The token's subject (sub): your runners are bound to issuer and subject", example: 'repo:my-org/api:ref:refs/heads/main' })
  subject: string;

  @ApiProperty({ description: 'The name shown for you (the issuer\'s display claim, else sub)', example: 'repo:my-org/api:ref:refs/heads/main' })
  name: string;

  @ApiProperty({ description: "The policy's name for the issuer; null for the local development identity", nullable: true, type: String, example: 'github-actions' })
  issuer_name: string | null;
}

export class MeLabelsGrantDto {
  @ApiProperty({ type: [String], description: 'Always added to your runners', example: ['ci'] })
  required: string[];

  @ApiProperty({
    description: 'Each requested label must match one: an exact label, or {"pattern": "…"} matching the whole label',
    example: ['arm64', { pattern: 'gpu|large' }],
    type: 'array',
    items: {},
  })
  allowed: (string | { pattern: string })[];
}

export class MeGrantDto {
  @ApiProperty({ type: MeLabelsGrantDto })
  labels: MeLabelsGrantDto;

  @ApiProperty({ type: [Number], description: 'Runner group ids you may use; the first is the default', example: [3] })
  runner_groups: number[];

  @ApiProperty({ type: Number, nullable: true, description: 'Live runners everyone this rule matches may hold together; null: no limit' })
  max_runners: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Live runners you may hold; null: no limit' })
  max_runners_per_identity: number | null;

  @ApiProperty({ description: 'Whether POST /runners/provision (registration tokens) is open to you' })
  registration_tokens: boolean;

  @ApiProperty({ description: 'Whether the admin API is open to you' })
  admin: boolean;

  @ApiProperty({ description: 'Whether your runners get exactly one label, run-<run_id>-<run_attempt>' })
  bind_to_run: boolean;
}

export class MeUsageDto {
  @ApiProperty({ description: 'Your live runners (not deleted or failed): what max_runners_per_identity counts', example: 2 })
  runners: number;

  @ApiProperty({ type: Number, nullable: true, description: "Live runners of everyone your rule matches: what max_runners counts; null without a rule" })
  rule_runners: number | null;
}

export class MeResponseDto {
  @ApiProperty({ type: MeIdentityDto })
  identity: MeIdentityDto;

  @ApiProperty({ enum: ['file', 'none'], description: 'file: a policy file decides; none: no policy file (any caller, any labels)' })
  policy: 'file' | 'none';

  @ApiProperty({ type: String, nullable: true, description: 'The rule that matched you (the first that matches decides); null when none did, or without a policy file' })
  rule: string | null;

  @ApiPropertyOptional({
    type: [String],
    description: 'When no rule matched: the claims the rules of your issuer looked at (names only, never values)',
  })
  considered_claims?: string[];

  @ApiProperty({ type: MeGrantDto, nullable: true, description: 'What you may do; null when no rule matched (every request is refused with POLICY_NO_MATCH)' })
  grant: MeGrantDto | null;

  @ApiProperty({ type: MeUsageDto })
  usage: MeUsageDto;

  @ApiProperty({ description: 'Whether an admin suspended you (or your rule): requests are refused with IDENTITY_SUSPENDED' })
  suspended: boolean;
}

export function toMeGrant(grant: Grant, defaultRunnerGroupId: number): MeGrantDto {
  return {
    labels: { required: grant.labels.required, allowed: grant.labels.allowed.map(describeLabelMatcher) },
    runner_groups: grant.runnerGroups ?? [defaultRunnerGroupId],
    max_runners: grant.maxRunners,
    max_runners_per_identity: grant.maxRunnersPerIdentity,
    registration_tokens: grant.registrationTokens,
    admin: grant.admin,
    bind_to_run: grant.bindToRun,
  };
}

function describeLabelMatcher(matcher: LabelMatcher): string | { pattern: string } {
  return matcher.kind === 'exact' ? matcher.value : { pattern: matcher.source };
}
