import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { fingerprint } from '../../audit/audit.service.js';
import { API_PREFIX } from '../../common/api.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { GithubClient } from '../../github/github.client.js';
import { orgWebUrl } from '../../github/github-urls.js';
import type { ProvisionRunnerDto } from '../dto/provision-runner.dto.js';
import { DEFAULT_EPHEMERAL } from '../runner-input.rules.js';
import { toProvisionRunnerResponse, type ProvisionRunnerResponseDto } from '../dto/provision-runner-response.dto.js';
import { PolicyService } from '../../policy/policy.service.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import { policyRefusal } from './policy-refusal.js';
import { type Attempt, NameTaken } from './provisioning-attempt.js';
import { ProvisioningAttempts } from './provisioning-attempts.service.js';
import { RunnerGroupNames } from './runner-group-names.service.js';

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
    private readonly github: GithubClient,
    private readonly attempts: ProvisioningAttempts,
    private readonly policy: PolicyService,
    private readonly groupNames: RunnerGroupNames,
  ) {}

  /**
   * Issues a registration token for one named runner, as one attempt (ProvisioningAttempts.run): the
   * pending row and its 'attempted' event are written before GitHub is asked for the token; the
   * token's expiry and the 'succeeded' event (with the token's fingerprint, never the token) then
   * commit together.
   */
  async provisionRunner(actor: Actor, request: ProvisionRunnerDto): Promise<ProvisionRunnerResponseDto> {
    const name = request.runner_name;
    const ephemeral = request.ephemeral ?? DEFAULT_EPHEMERAL;
    return this.attempts.run(actor, 'registration_token', { name }, async (attempt) => {
      if (!this.config.runners.registrationTokensEnabled) {
        throw new DomainError(
          ERROR_CODES.REGISTRATION_TOKENS_DISABLED,
          `This service does not hand out registration tokens (ENABLE_REGISTRATION_TOKENS=false); use POST /${API_PREFIX}/runners/jit for a JIT runner config instead`,
        );
      }
      const { labels, runnerGroupId, limits } = this.decide(attempt, request);
      const runnerGroup = await this.groupNames.nameOf(runnerGroupId);
      const replacing = await this.attempts.claimName(attempt, { name, replaceable: true });
      // Whatever the database says, a name GitHub already has is refused: config.sh would fail on
      // it, and a sync would take that runner for ours.
      if (await this.github.findRunnerByName(name)) {
        throw new NameTaken(
          name,
          'already registered on GitHub',
          'choose another runner_name (config.sh would refuse this one), or remove that runner first',
        );
      }
      await this.attempts.reserve(attempt, {
        runner: { kind: 'registration_token', ephemeral, labels, runnerGroupId },
        limits,
        details: { labels, ephemeral, runner_group_id: runnerGroupId },
        replacing: replacing && {
          runner: replacing,
          details: {
            kind: replacing.kind,
            reason: 'the owner asked for the same name again while it was pending and not registered on GitHub',
          },
        },
      });
      if (replacing) this.logger.log(`Replaced pending runner ${name} at its owner's request`);
      const token = await this.github.createRegistrationToken();
      return {
        change: { expiresAt: token.expiresAt },
        details: {
          labels,
          ephemeral,
          runner_group_id: runnerGroupId,
          runner_group: runnerGroup,
          expires_at: token.expiresAt.toISOString(),
          token_fingerprint: fingerprint(token.token),
        },
        answer: (runner) => {
          this.logger.log(`Issued a registration token for runner ${name} to ${actor.name}`);
          const githubUrl = orgWebUrl(this.config.github.apiUrl, this.config.github.org);
          return toProvisionRunnerResponse(runner, token, githubUrl, runnerGroup);
        },
      };
    });
  }

  /**
   * What the policy grants: the labels for config.sh (the requested ones and the rule's required
   * ones; config.sh adds self-hosted, OS and architecture itself, so system labels appear only when
   * asked for), the group, and the limits. A refusal ends the attempt as denied.
   */
  private decide(attempt: Attempt, request: ProvisionRunnerDto): { labels: string[]; runnerGroupId: number; limits: QuotaLimits } {
    const systemLabels = this.config.github.systemLabels;
    const decision = this.policy.decideProvision(
      attempt.actor,
      { kind: 'registration_token', labels: request.labels, runnerGroupId: request.runner_group_id },
      { systemLabels, defaultRunnerGroupId: this.config.github.runnerGroupId },
    );
    attempt.policy = { rule: decision.rule, claims: decision.matchedClaims };
    if (!decision.allowed) throw policyRefusal(decision);
    const labels = decision.labels.filter((label) => !systemLabels.includes(label) || request.labels.includes(label));
    return { labels, runnerGroupId: decision.runnerGroupId, limits: decision.limits };
  }
}
