import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService, fingerprint } from '../audit/audit.service.js';
import { DomainError, ERROR_CODES } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GithubClient } from '../github/github.client.js';
import { GithubError } from '../github/github.errors.js';
import type { CreateJitRunnerDto } from './dto/create-jit-runner.dto.js';
import { toJitRunnerResponse, type JitRunnerResponseDto } from './dto/jit-runner-response.dto.js';
import type { RunnerEntity } from './runner.entity.js';
import { toRunnerResponse, type RunnerListResponseDto, type RunnerResponseDto } from './dto/runner-response.dto.js';
import { DEFAULT_WORK_FOLDER, MAX_LABELS, NAME_SUFFIX_HEX_LENGTH } from './runner-rules.js';
import { isNameTaken, RunnersRepository } from './runners.repository.js';

/** How long a caller has to start a JIT runner before the service may treat it as unused. */
export const JIT_CONFIG_VALIDITY_MS = 60 * 60 * 1000;
/** A prefix collision picks a new suffix; 24 random bits make more than a few collisions unlikely. */
export const MAX_NAME_ATTEMPTS = 5;

export const AUDIT_ACTIONS = {
  PROVISION_JIT: 'provision_jit',
  REPLACE: 'replace',
} as const;

/** Thrown inside provisioning when a name is held; a prefix request then tries another suffix. */
class NameTaken extends DomainError {
  constructor(name: string, reason: string) {
    super(ERROR_CODES.RUNNER_NAME_TAKEN, `The runner name "${name}" is taken ${reason}; choose another runner_name`, {
      runner_name: name,
    });
  }
}

interface JitPlan {
  labels: string[];
  runnerGroupId: number;
  workFolder: string;
}

/** The rules of runners: names, labels, ownership, and keeping the database in step with GitHub. */
@Injectable()
export class RunnersService {
  private readonly logger = new Logger(RunnersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
  ) {}

  /**
   * Issues a JIT config for one ephemeral runner. The runner row and its audit event are written
   * before GitHub is called; GitHub's answer then completes the row or marks it failed.
   */
  async provisionJit(actor: Actor, request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    const plan = this.planJit(request);
    if (request.runner_name !== undefined) {
      return this.provisionJitNamed(actor, request.runner_name, plan, { explicitName: true });
    }
    const prefix = request.runner_name_prefix as string;
    for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS; attempt++) {
      const name = `${prefix}-${randomBytes(NAME_SUFFIX_HEX_LENGTH / 2).toString('hex')}`;
      try {
        return await this.provisionJitNamed(actor, name, plan, { explicitName: false });
      } catch (error) {
        if (!(error instanceof NameTaken)) throw error;
        this.logger.log(`Runner name ${name} is taken; trying another suffix`);
      }
    }
    throw new DomainError(
      ERROR_CODES.RUNNER_NAME_TAKEN,
      `No free name found for runner_name_prefix "${prefix}" after ${MAX_NAME_ATTEMPTS} attempts; choose another prefix`,
      { runner_name_prefix: prefix },
    );
  }

  private planJit(request: CreateJitRunnerDto): JitPlan {
    const groupId = this.config.github.runnerGroupId;
    if (request.runner_group_id !== undefined && request.runner_group_id !== groupId) {
      throw new DomainError(
        ERROR_CODES.VALIDATION_FAILED,
        `runner_group_id must be ${groupId}: this service registers runners in runner group ${groupId} only`,
        { field: 'runner_group_id' },
      );
    }
    // GitHub registers exactly the labels sent to a JIT runner: the system labels go first.
    const labels = [...new Set([...this.config.github.systemLabels, ...request.labels])];
    if (labels.length > MAX_LABELS) {
      const room = MAX_LABELS - this.config.github.systemLabels.length;
      throw new DomainError(
        ERROR_CODES.VALIDATION_FAILED,
        `labels must hold at most ${room} labels besides the ${this.config.github.systemLabels.length} system labels (GitHub allows ${MAX_LABELS} in all)`,
        { field: 'labels' },
      );
    }
    return { labels, runnerGroupId: groupId, workFolder: request.work_folder ?? DEFAULT_WORK_FOLDER };
  }

  private async provisionJitNamed(
    actor: Actor,
    name: string,
    plan: JitPlan,
    options: { explicitName: boolean },
  ): Promise<JitRunnerResponseDto> {
    const holder = await this.runners.findActiveByName(name);
    if (holder) {
      const ownPending = holder.ownerIssuer === actor.issuer && holder.ownerSubject === actor.subject && holder.status === 'pending';
      if (!(options.explicitName && ownPending)) {
        // A prefix collision is not the caller's doing: it silently picks another suffix.
        if (options.explicitName) await this.recordDenied(actor, name, 'name_taken');
        throw new NameTaken(name, 'by another runner');
      }
      // A retry by the same owner for its own runner that never came online replaces it.
      await this.replace(actor, holder);
    }

    const runner = await this.reserve(actor, name, plan);
    let jit;
    try {
      jit = await this.github.generateJitConfig({ name, ...plan });
    } catch (error) {
      await this.recordGithubRefusal(actor, runner, error);
      if (error instanceof GithubError && error.code === ERROR_CODES.GITHUB_NAME_TAKEN) {
        throw new NameTaken(name, 'on GitHub by a runner this service did not create');
      }
      throw error;
    }

    const expiresAt = new Date(Date.now() + JIT_CONFIG_VALIDITY_MS);
    const provisioned = await this.runners.transaction(async (manager) => {
      const updated = await this.runners.update(manager, runner, { githubRunnerId: jit.runner.id, expiresAt });
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.PROVISION_JIT,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: name,
        details: {
          github_runner_id: jit.runner.id,
          labels: plan.labels,
          runner_group_id: plan.runnerGroupId,
          jit_config_fingerprint: fingerprint(jit.encodedJitConfig),
        },
      });
      return updated;
    });
    this.logger.log(`Provisioned JIT runner ${name} (GitHub id ${jit.runner.id}) for ${actor.name}`);
    return toJitRunnerResponse(provisioned, jit.encodedJitConfig);
  }

  /** Writes the pending row and its 'attempted' event in one transaction, before GitHub is called. */
  private async reserve(actor: Actor, name: string, plan: JitPlan): Promise<RunnerEntity> {
    try {
      return await this.runners.transaction(async (manager) => {
        const runner = await this.runners.insert(manager, {
          name,
          kind: 'jit',
          status: 'pending',
          ephemeral: true,
          labels: plan.labels,
          runnerGroupId: plan.runnerGroupId,
          ownerIssuer: actor.issuer,
          ownerSubject: actor.subject,
          ownerName: actor.name,
        });
        await this.audit.record(manager, actor, {
          action: AUDIT_ACTIONS.PROVISION_JIT,
          outcome: 'attempted',
          runnerId: runner.id,
          runnerName: name,
          details: { labels: plan.labels, runner_group_id: plan.runnerGroupId },
        });
        return runner;
      });
    } catch (error) {
      // Another request took the name between our check and our insert.
      if (isNameTaken(error)) {
        await this.recordDenied(actor, name, 'name_taken');
        throw new NameTaken(name, 'by another runner');
      }
      throw error;
    }
  }

  /**
   * GitHub did not create the runner (or we cannot tell). generate-jitconfig is not idempotent: after
   * a 5xx or a timeout the runner may exist on GitHub although we never got its config, so look it up
   * by name and remove it, since nobody can ever start it. Then mark our row failed.
   */
  private async recordGithubRefusal(actor: Actor, runner: RunnerEntity, error: unknown): Promise<void> {
    const code = error instanceof DomainError ? error.code : ERROR_CODES.INTERNAL;
    const details: Record<string, unknown> = { error_code: code };
    if (error instanceof GithubError) {
      if (error.failure.status !== undefined) details.github_status = error.failure.status;
      if (code === ERROR_CODES.GITHUB_UNAVAILABLE || code === ERROR_CODES.GITHUB_TIMEOUT) {
        details.orphan_removed = await this.removeOrphan(runner.name);
      }
    }
    const reason = error instanceof Error ? error.message : 'unknown error';
    await this.runners.transaction(async (manager) => {
      await this.runners.update(manager, runner, { status: 'failed', failureReason: reason });
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.PROVISION_JIT,
        outcome: 'failed',
        runnerId: runner.id,
        runnerName: runner.name,
        details,
      });
    });
  }

  /** Best effort: true when a runner of that name was found on GitHub and removed. */
  private async removeOrphan(name: string): Promise<boolean> {
    try {
      const orphan = await this.github.findRunnerByName(name);
      if (!orphan) return false;
      await this.github.deleteRunner(orphan.id);
      this.logger.warn(`Removed runner ${name} (GitHub id ${orphan.id}) that GitHub created although the call failed`);
      return true;
    } catch (error) {
      this.logger.warn(`Could not check GitHub for an orphaned runner ${name}: ${(error as Error).message}`);
      return false;
    }
  }

  /** Deletes the owner's pending runner on GitHub, then marks it deleted, so its name can be reused. */
  private async replace(actor: Actor, runner: RunnerEntity): Promise<void> {
    const githubId = runner.githubRunnerId ?? (await this.github.findRunnerByName(runner.name))?.id;
    if (githubId !== undefined && githubId !== null) await this.github.deleteRunner(githubId);
    await this.runners.transaction(async (manager) => {
      await this.runners.update(manager, runner, { status: 'deleted', deletedAt: new Date() });
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.REPLACE,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: { github_runner_id: githubId ?? null, reason: 'the owner asked for the same name again while it was pending' },
      });
    });
  }

  private async recordDenied(actor: Actor, name: string, reason: string): Promise<void> {
    await this.runners.transaction((manager) =>
      this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.PROVISION_JIT,
        outcome: 'denied',
        runnerName: name,
        details: { reason },
      }),
    );
  }

  async listRunners(actor: Actor): Promise<RunnerListResponseDto> {
    const runners = await this.runners.listOwned(actor);
    return { runners: runners.map(toRunnerResponse) };
  }

  async getRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    const runner = await this.runners.findOwned(actor, idOrName);
    if (!runner) {
      throw new DomainError(ERROR_CODES.RUNNER_NOT_FOUND, `You have no runner with the id or name "${idOrName}"`);
    }
    return toRunnerResponse(runner);
  }
}
