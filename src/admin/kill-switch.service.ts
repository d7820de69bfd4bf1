import { Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { RunnersService, type RunnersSelector } from '../runners/runners.service.js';
import type { SuspensionTarget } from '../suspensions/suspension-target.js';
import { SuspensionsService } from '../suspensions/suspensions.service.js';
import type { ResumeIdentityResponseDto, SuspendIdentityResponseDto } from './dto/suspension-outcome.dto.js';

export interface SuspendOptions {
  /** Also remove the target's runners from GitHub now. */
  removeRunners?: boolean;
  reason?: string | null;
}

function runnersOf(target: SuspensionTarget): RunnersSelector {
  return target.kind === 'identity' ? { owner: { issuer: target.issuer, subject: target.subject } } : { rule: target.rule };
}

/**
 * The kill switch, for the admin API and the CLI alike: suspend an identity or a rule (and remove
 * its runners), resume it. Suspensions and runners are separate modules; this is where they meet.
 */
@Injectable()
export class KillSwitchService {
  constructor(
    private readonly suspensions: SuspensionsService,
    private readonly runners: RunnersService,
  ) {}

  /**
   * Suspends the target, then (when asked) removes its runners. The suspension commits first, so
   * provisioning refuses the target while its runners are being removed. Asking again for a target
   * suspended already removes what is left (the busy runners of last time, now idle).
   */
  async suspend(actor: Actor, target: SuspensionTarget, options: SuspendOptions = {}): Promise<SuspendIdentityResponseDto> {
    const { suspension, alreadySuspended } = await this.suspensions.suspend(actor, target, {
      reason: options.reason,
      removeRunners: options.removeRunners,
    });
    const runnerRemoval = options.removeRunners ? await this.runners.removeRunnersOf(actor, runnersOf(target)) : null;
    return { ...suspension, already_suspended: alreadySuspended, runner_removal: runnerRemoval };
  }

  /** Lifts the target's suspension; its removed runners stay removed. */
  async resume(actor: Actor, target: SuspensionTarget): Promise<ResumeIdentityResponseDto> {
    const { lifted } = await this.suspensions.resume(actor, target);
    const named =
      target.kind === 'identity'
        ? { kind: target.kind, issuer: target.issuer, subject: target.subject, rule: null }
        : { kind: target.kind, issuer: null, subject: null, rule: target.rule };
    return { ...named, was_suspended: lifted !== null, lifted };
  }
}
