import { ApiProperty } from '@nestjs/swagger';
import type { RunnerEntity } from '../runner.entity.js';
import { RunnerResponseDto, toRunnerResponse } from './runner-response.dto.js';

/** A runner as admins see it: what its owner sees, and whose it is. */
export class AdminRunnerResponseDto extends RunnerResponseDto {
  @ApiProperty({ description: "The owner's display name (the OIDC user claim, else sub); the same as owner", example: 'alice@example.com' })
  owner_name: string;

  @ApiProperty({ description: "The owner's token iss", example: 'https://login.example.com' })
  owner_issuer: string;

  @ApiProperty({ description: "The owner's token sub", example: 'user-1234' })
  owner_subject: string;

  @ApiProperty({ type: String, nullable: true, description: 'The policy rule that allowed the runner; null without a policy file' })
  policy_rule: string | null;
}

/** One page of every owner's runners; the caller adds the link to the next page. */
export interface AdminRunnerPage {
  runners: AdminRunnerResponseDto[];
  next_cursor: string | null;
}

export function toAdminRunnerResponse(runner: RunnerEntity): AdminRunnerResponseDto {
  return {
    ...toRunnerResponse(runner),
    owner_name: runner.ownerName,
    owner_issuer: runner.ownerIssuer,
    owner_subject: runner.ownerSubject,
    policy_rule: runner.policyRule,
  };
}
