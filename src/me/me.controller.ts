import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Actor } from '../auth/actor.js';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { ApiErrorResponseDto } from '../common/api-error-response.dto.js';
import { ApiDatabaseUnavailable } from '../common/api-github-errors.js';
import { MeResponseDto } from './dto/me-response.dto.js';
import { OpenToSuspended } from '../suspensions/suspended-caller.interceptor.js';
import { MeService } from './me.service.js';

@ApiTags('me')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing, expired or invalid OIDC token', type: ApiErrorResponseDto })
@ApiDatabaseUnavailable()
@Controller('me')
export class MeController {
  constructor(private readonly me: MeService) {}

  @Get()
  // A suspended caller may still ask what it is; the answer says it is suspended.
  @OpenToSuspended()
  @ApiOperation({
    summary: 'Who you are to this service, and what the access policy grants you',
    description:
      'Your identity (issuer, subject, display name), the policy rule that matched, its grant (labels, runner groups, ' +
      'limits), and how many runners count against each limit now. Answers even when no rule matches, so that a ' +
      'refusal can be understood without an operator.',
  })
  @ApiOkResponse({ type: MeResponseDto })
  describe(@CurrentActor() actor: Actor): Promise<MeResponseDto> {
    return this.me.describe(actor);
  }
}
