import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { fingerprint } from '../../audit/audit.service.js';
import { DomainError, ERROR_CODES } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { GithubClient } from '../../github/github.client.js';
import { GithubError } from '../../github/github.errors.js';
import type { GithubRunner, JitConfig } from '../../github/github.types.js';
import type { CreateJitRunnerDto } from '../dto/create-jit-runner.dto.js';
import { toJitRunnerResponse, type JitRunnerResponseDto } from '../dto/jit-runner-response.dto.js';
import type { RunnerEntity } from '../runner.entity.js';
import { PolicyService } from '../../policy/policy.service.js';
import type { QuotaLimits } from '../../policy/policy.types.js';
import { DEFAULT_WORK_FOLDER, NAME_SUFFIX_HEX_LENGTH } from '../runner-input.rules.js';
import {
  hasConnected,
  type JitPlan,
  looksFreshlyCreatedFor,
  planOf,
  REQUEST_ABANDONED,
} from '../runner-state.rules.js';
import { RunnersRepository } from '../runners.repository.js';
import { policyRefusal } from './policy-refusal.js';
import { type Attempt, type Issued, NameTaken, type Reservation } from './provisioning-attempt.js';
import { GithubRunnersService } from '../github-runners.service.js';
import { ProvisioningAttempts } from './provisioning-attempts.service.js';

/** A prefix collision picks a new suffix; 24 random bits make more than a few collisions unlikely. */
export const MAX_NAME_ATTEMPTS = 5;

/** Failures after which GitHub may have created the runner although we never got its answer. */
const ANSWER_MAY_BE_LOST: readonly string[] = [ERROR_CODES.GITHUB_UNAVAILABLE, ERROR_CODES.GITHUB_TIMEOUT, REQUEST_ABANDONED];

/** What looking for a runner a failed attempt left on GitHub came to, for the audit trail. */
type LeftoverRemoval = 'removed' | 'none' | 'not-ours' | 'unknown';

/**
 * JIT provisioning: one ephemeral runner, with the labels and group the server decides, and its JIT
 * config. Each name tried is one attempt (ProvisioningAttempts.run): the pending row is written
 * before GitHub is called, and GitHub's answer completes it or fails it.
 */
@Injectable()
export class JitProvisioningService {
  private readonly logger = new Logger(JitProvisioningService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly github: GithubClient,
    private readonly githubRunners: GithubRunnersService,
    private readonly attempts: ProvisioningAttempts,
    private readonly policy: PolicyService,
  ) {}

  /**
   * Issues a JIT config for the runner named in the request, or for the prefix plus a random suffix.
   * Each name tried is an attempt with its own closing event; when a suffix turns out to be taken
   * (here, or on GitHub), another is tried.
   */
  async provisionJit(actor: Actor, request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    const prefix = request.runner_name_prefix;
    if (prefix === undefined) return this.provisionOnce(actor, request);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.provisionOnce(actor, request);
      } catch (error) {
        if (!(error instanceof NameTaken)) throw error;
        this.logger.log(`Runner name ${String(error.details?.runner_name)} is taken (attempt ${attempt} of ${MAX_NAME_ATTEMPTS})`);
        if (attempt === MAX_NAME_ATTEMPTS) {
          throw new DomainError(
            ERROR_CODES.RUNNER_NAME_TAKEN,
            `No free name found for runner_name_prefix "${prefix}" after ${MAX_NAME_ATTEMPTS} attempts; choose another prefix`,
            { runner_name_prefix: prefix },
          );
        }
      }
    }
  }

  /** One attempt: one name, one pending row, one call to generate-jitconfig. */
  private provisionOnce(actor: Actor, request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    const prefix = request.runner_name_prefix;
    const details = prefix === undefined ? {} : { runner_name_prefix: prefix };
    return this.attempts.run(actor, 'jit', { name: request.runner_name ?? null, details }, async (attempt) => {
      const { plan, limits } = this.planJit(attempt, request);
      const name = request.runner_name ?? `${prefix}-${randomBytes(NAME_SUFFIX_HEX_LENGTH / 2).toString('hex')}`;
      const explicitName = request.runner_name !== undefined;
      const reservation = (replacing?: RunnerEntity): Reservation => ({
        runner: { kind: 'jit', ephemeral: true, labels: plan.labels, runnerGroupId: plan.runnerGroupId },
        limits,
        details: { labels: plan.labels, runner_group_id: plan.runnerGroupId },
        replacing: replacing && {
          runner: replacing,
          details: {
            github_runner_id: replacing.githubRunnerId,
            reason: 'the owner asked for the same name again while it was pending',
          },
        },
        takenReason: explicitName ? 'taken by another runner' : 'taken',
      });
      // Most names are free: then one statement reserves it. Otherwise the name is claimed: the
      // caller's own pending runner is replaced, anyone else's refuses it.
      let reserved = await this.attempts.reserveIfFree(attempt, name, reservation());
      if (!reserved) {
        const replacing = await this.attempts.claimName(attempt, {
          name,
          madeUp: !explicitName,
          replaceable: explicitName,
          releaseAbandoned: (holder) => this.releaseAbandoned(actor, holder),
        });
        if (replacing) await this.removeForReplacement(replacing);
        reserved = await this.attempts.reserve(attempt, reservation(replacing));
      }
      const jit = await this.generate(attempt, name, plan);
      // The caller has until then to start it; the next cleanup after that removes it (never_started).
      const expiresAt = new Date(reserved.createdAt.getTime() + this.config.runners.jitStartTimeoutMinutes * 60_000);
      return this.issued(actor, name, plan, jit, expiresAt);
    });
  }

  /**
   * What the policy grants this caller for this request: the labels (system labels first, or the one
   * run label of bind_to_run), the group, and the limits the reservation checks. A refusal ends the
   * attempt as denied, with the rule that decided.
   */
  private planJit(attempt: Attempt, request: CreateJitRunnerDto): { plan: JitPlan; limits: QuotaLimits } {
    const decision = this.policy.decideProvision(
      attempt.actor,
      { kind: 'jit', labels: request.labels, runnerGroupId: request.runner_group_id },
      { systemLabels: this.config.github.systemLabels, defaultRunnerGroupId: this.config.github.runnerGroupId },
    );
    attempt.policy = { rule: decision.rule, claims: decision.matchedClaims };
    if (!decision.allowed) throw policyRefusal(decision);
    return {
      plan: { labels: decision.labels, runnerGroupId: decision.runnerGroupId, workFolder: request.work_folder ?? DEFAULT_WORK_FOLDER },
      limits: decision.limits,
    };
  }

  /** What completes the attempt: GitHub's id on the row, the success event, the caller's answer. */
  private issued(actor: Actor, name: string, plan: JitPlan, jit: JitConfig, expiresAt: Date): Issued<JitRunnerResponseDto> {
    return {
      change: { githubRunnerId: jit.runner.id },
      // Written once the answer has gone out: a runner without it was perhaps never handed out (see requestProgress).
      handedOut: { expiresAt },
      details: {
        github_runner_id: jit.runner.id,
        labels: plan.labels,
        runner_group_id: plan.runnerGroupId,
        jit_config_fingerprint: fingerprint(jit.encodedJitConfig),
      },
      answer: (runner) => {
        this.logger.log(`Provisioned JIT runner ${name} (GitHub id ${jit.runner.id}) for ${actor.name}`);
        return toJitRunnerResponse(runner, jit.encodedJitConfig);
      },
      createdOnGithub: jit.runner.id,
    };
  }

  /**
   * generate-jitconfig. It is not idempotent: after a 5xx or a timeout the runner may exist on GitHub
   * although we never got its config, and nobody could ever start it, so it is looked up by name and
   * removed if it is exactly the runner we asked for. GitHub's "name taken" is the caller's
   * RUNNER_NAME_TAKEN (the attempt records GitHub's answer).
   */
  private async generate(attempt: Attempt, name: string, plan: JitPlan): Promise<JitConfig> {
    try {
      return await this.generateOrRecover(attempt.actor, name, plan);
    } catch (error) {
      if (error instanceof GithubError && ANSWER_MAY_BE_LOST.includes(error.code)) {
        attempt.failureDetails.orphan = await this.removeLeftover(name, 'that GitHub created although its answer was lost', (found) =>
          looksFreshlyCreatedFor(found, plan),
        );
      }
      if (error instanceof GithubError && error.code === ERROR_CODES.GITHUB_NAME_TAKEN) {
        throw new NameTaken(name, 'taken on GitHub by another runner', undefined, error);
      }
      throw error;
    }
  }

  /**
   * generate-jitconfig, with one recovery: when GitHub says the name is taken by a runner that one of
   * this owner's failed attempts left behind (GitHub created it, we never handed it out), that runner
   * is removed and the call made once more.
   */
  private async generateOrRecover(actor: Actor, name: string, plan: JitPlan): Promise<JitConfig> {
    const request = { name, ...plan };
    try {
      return await this.github.generateJitConfig(request);
    } catch (error) {
      if (!(error instanceof GithubError && error.code === ERROR_CODES.GITHUB_NAME_TAKEN)) throw error;
      const leftByUs = async (found: GithubRunner) => {
        const failed = await this.runners.listFailedAttempts(actor, name);
        return failed.some(
          (earlier) =>
            earlier.githubRunnerId === found.id ||
            (ANSWER_MAY_BE_LOST.includes(earlier.failureCode ?? '') && looksFreshlyCreatedFor(found, planOf(earlier))),
        );
      };
      if ((await this.removeLeftover(name, 'left by an earlier failed attempt', leftByUs)) !== 'removed') throw error;
      return this.github.generateJitConfig(request);
    }
  }

  /**
   * Best effort: removes the runner named `name` from GitHub when `isOurs` recognises it as the one a
   * failed attempt of ours left there (`which`, for the log), and says what it found. Somebody else's
   * runner is never touched.
   */
  private async removeLeftover(
    name: string,
    which: string,
    isOurs: (found: GithubRunner) => boolean | Promise<boolean>,
  ): Promise<LeftoverRemoval> {
    try {
      return await this.githubRunners.removeLeftover(name, which, isOurs);
    } catch (error) {
      this.logger.warn(`Could not check GitHub for the runner ${name} ${which}: ${(error as Error).message}`);
      return 'unknown';
    }
  }

  /**
   * Closes an abandoned attempt (isAbandoned), for the name's next request or a sync: removes what
   * GitHub may have created for it (only if it looks exactly like that attempt's runner), then
   * closes it as failed. False when the row changed meanwhile (nothing written).
   */
  async releaseAbandoned(actor: Actor, runner: RunnerEntity): Promise<boolean> {
    const orphan = await this.removeLeftover(runner.name, 'of a request that never finished', (found) =>
      looksFreshlyCreatedFor(found, planOf(runner)),
    );
    return this.attempts.closeAbandoned(actor, runner, { orphan });
  }

  /**
   * Removes the owner's pending runner from GitHub so a new one can take its name (the reservation
   * then marks it deleted). Refused once it has connected.
   */
  private async removeForReplacement(holder: RunnerEntity): Promise<void> {
    // A claimed JIT holder has GitHub's id: one without it is still provisioning, or abandoned.
    const onGithub = holder.githubRunnerId === null ? null : await this.github.getRunner(holder.githubRunnerId);
    if (onGithub && hasConnected(onGithub)) {
      throw new NameTaken(
        holder.name,
        'held by your runner that has already connected to GitHub',
        'choose another runner_name (a connected runner is never replaced)',
      );
    }
    if (onGithub) await this.github.deleteRunner(onGithub.id);
    this.logger.log(`Replacing pending runner ${holder.name} (GitHub id ${holder.githubRunnerId}) at its owner's request`);
  }
}
