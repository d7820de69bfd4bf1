// Placeholder: the registration-token work replaces this file.
import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import type { ProvisionRunnerDto } from './dto/provision-runner.dto.js';
import type { ProvisionRunnerResponseDto } from './dto/provision-runner-response.dto.js';

@Injectable()
export class RegistrationTokensService {
  provisionRunner(_actor: Actor, _request: ProvisionRunnerDto): Promise<ProvisionRunnerResponseDto> {
    throw new Error('not built yet');
  }
}
