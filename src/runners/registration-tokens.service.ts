import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService, fingerprint } from '../audit/audit.service.js';
import { API_PREFIX } from '../common/api.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GithubClient } from '../github/github.client.js';
import { orgWebUrl } from '../github/github-urls.js';
import type { RegistrationToken } from '../github/github.types.js';
import { DEFAULT_EPHEMERAL, type ProvisionRunnerDto } from './dto/provision-runner.dto.js';
import { toProvisionRunnerResponse, type ProvisionRunnerResponseDto } from './dto/provision-runner-response.dto.js';
import type { RunnerEntity } from './runner.entity.js';
import { AUDIT_ACTIONS } from './audit-actions.js';
import { githubStatusOf, NameTaken, ProvisioningAttempts } from './provisioning-attempts.js';
import { RunnersRepository } from './runners.repository.js';
import { ABANDONED_AFTER_MS } from './runners.service.js';

/** What the caller asked for, normalised: the row, the audit trail and the response all use it. */
interface TokenPlan {
  name: string;
  labels: string[];
  ephemeral: boolean;
  runnerGroupId: number;
}

/**
 * Legacy provisioning: a GitHub registration token and the `./config.sh` command that uses it. The
 * runner is recorded pending under its name until a sync or refresh finds it on GitHub by that name.
 *
 * The token registers any number of runners, with any labels, for an hour: the caller's labels and
 * `ephemeral` are advice in the command, not enforced. That is why JIT is preferred and why this can
 * be switched off (ENABLE_REGISTRATION_TOKENS=false).
 */
@Injectable()
export class RegistrationTokensService {
  private readonly logger = new Logger(RegistrationTokensService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly attempts: ProvisioningAttempts,
  ) {}

  /**
   * Issues a registration token for one named runner. The pending row and its 'attempted' event are
   * written before GitHub is asked for the token; the token's expiry and the 'succeeded' event (with
   * the token's fingerprint, never the token) then commit together. Every attempt ends with one
   * closing event: succeeded, denied or failed.
   */
  async provisionRunner(actor: Actor, request: ProvisionRunnerDto): Promise<ProvisionRunnerResponseDto> {
    const plan: TokenPlan = {
      name: request.runner_name,
      // config.sh adds self-hosted, the OS and the architecture itself: only the caller's labels here.
      labels: [...new Set(request.labels)],
      ephemeral: request.ephemeral ?? DEFAULT_EPHEMERAL,
      runnerGroupId: this.config.github.runnerGroupId,
    };
    try {
      if (!this.config.runners.registrationTokensEnabled) {
        throw new DomainError(
          ERROR_CODES.REGISTRATION_TOKENS_DISABLED,
          `This service does not hand out registration tokens (ENABLE_REGISTRATION_TOKENS=false); use POST /${API_PREFIX}/runners/jit for a JIT runner config instead`,
        );
      }
      const replacing = await this.checkName(actor, plan.name);
      const runner = await this.reserve(actor, plan, replacing);
      let token: RegistrationToken;
      try {
        token = await this.github.createRegistrationToken();
      } catch (error) {
        await this.fail(actor, runner, error);
        throw error;
      }
      return await this.complete(actor, runner, plan, token);
    } catch (error) {
      await this.attempts.recordUnaudited(actor, 'registration_token', plan.name, error, githubStatusOf(error));
      throw error;
    }
  }

  /**
   * Who may take the name. A name another runner holds is refused, except the caller's own pending
   * registration-token runner, which is returned to be replaced (the seed asks twice for the same
   * name). Whatever the database says, a name GitHub already has is refused: config.sh would fail on
   * it, and a sync would take that runner for ours.
   */
  private async checkName(actor: Actor, name: string): Promise<RunnerEntity | undefined> {
    const holder = await this.runners.findActiveByName(name);
    let replacing: RunnerEntity | undefined;
    if (holder) {
      const own = holder.ownerIssuer === actor.issuer && holder.ownerSubject === actor.subject;
      if (!own || holder.status !== 'pending') throw new NameTaken(name, 'taken by another runner');
      if (holder.kind !== 'registration_token') {
        throw new NameTaken(
          name,
          'held by your pending JIT runner',
          'choose another runner_name, or delete that runner first (a JIT runner is never replaced by a registration token)',
        );
      }
      if (holder.expiresAt === null && Date.now() - holder.createdAt.getTime() <= ABANDONED_AFTER_MS) {
        throw new NameTaken(name, 'still being provisioned by an earlier request', 'retry in a moment');
      }
      replacing = holder;
    }
    if (await this.github.findRunnerByName(name)) {
      throw new NameTaken(
        name,
        'already registered on GitHub',
        'choose another runner_name (config.sh would refuse this one), or remove that runner first',
      );
    }
    return replacing;
  }

  /** Writes the pending row, replacing the caller's own pending runner that checkName returned. */
  private async reserve(actor: Actor, plan: TokenPlan, replacing: RunnerEntity | undefined): Promise<RunnerEntity> {
    const runner = await this.attempts.reserve(actor, {
      runner: { ...plan, kind: 'registration_token' },
      details: { labels: plan.labels, ephemeral: plan.ephemeral, runner_group_id: plan.runnerGroupId },
      replacing: replacing && {
        runner: replacing,
        details: {
          kind: replacing.kind,
          reason: 'the owner asked for the same name again while it was pending and not registered on GitHub',
        },
      },
    });
    if (replacing) this.logger.log(`Replaced pending runner ${plan.name} at its owner's request`);
    return runner;
  }

  /** Records the token's expiry and the success event together; only then is the token handed out. */
  private async complete(
    actor: Actor,
    runner: RunnerEntity,
    plan: TokenPlan,
    token: RegistrationToken,
  ): Promise<ProvisionRunnerResponseDto> {
    let completed: boolean;
    try {
      completed = await this.runners.transaction(async (manager) => {
        if (!(await this.runners.updateWhilePending(manager, runner.id, null, { expiresAt: token.expiresAt }))) return false;
        await this.audit.record(manager, actor, {
          action: AUDIT_ACTIONS.PROVISION,
          outcome: 'succeeded',
          runnerId: runner.id,
          runnerName: runner.name,
          details: {
            labels: plan.labels,
            ephemeral: plan.ephemeral,
            runner_group_id: plan.runnerGroupId,
            expires_at: token.expiresAt.toISOString(),
            token_fingerprint: fingerprint(token.token),
          },
        });
        return true;
      });
    } catch (error) {
      await this.fail(actor, runner, error);
      throw error;
    }
    if (!completed) {
      // A newer request for the same name replaced this one while GitHub was answering.
      const superseded = new NameTaken(runner.name, 'being provisioned again by a newer request');
      await this.fail(actor, runner, superseded);
      throw superseded;
    }
    this.logger.log(`Issued a registration token for runner ${runner.name} to ${actor.name}`);
    const githubUrl = orgWebUrl(this.config.github.apiUrl, this.config.github.org);
    return toProvisionRunnerResponse(runner, token, githubUrl);
  }

  /**
   * Marks the attempt failed. A failure that cannot be recorded is only logged, so the caller's own
   * error is the one thrown; the catch-all then still tries to close the attempt.
   */
  private async fail(actor: Actor, runner: RunnerEntity, error: unknown): Promise<void> {
    try {
      await this.attempts.fail(actor, runner, error);
    } catch (recordError) {
      this.logger.error(`Could not record the failure of provisioning ${runner.name}: ${(recordError as Error).message}`);
    }
  }
}
