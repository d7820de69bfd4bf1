import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService, fingerprint } from '../audit/audit.service.js';
import { DomainError, ERROR_CODES, errorCodeOf } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GithubClient } from '../github/github.client.js';
import { GithubError } from '../github/github.errors.js';
import type { JitConfig } from '../github/github.types.js';
import type { CreateJitRunnerDto } from './dto/create-jit-runner.dto.js';
import { toJitRunnerResponse, type JitRunnerResponseDto } from './dto/jit-runner-response.dto.js';
import { toRunnerResponse, type RunnerListResponseDto, type RunnerResponseDto } from './dto/runner-response.dto.js';
import { type RunnerEntity, TERMINAL_STATUSES } from './runner.entity.js';
import { DEFAULT_WORK_FOLDER, MAX_LABELS, NAME_SUFFIX_HEX_LENGTH } from './runner-rules.js';
import {
  findOnGithub,
  type GithubRemoval,
  hasConnected,
  insideGracePeriod,
  isRunnerBusyError,
  type JitPlan,
  looksFreshlyCreatedFor,
  observedState,
  planOf,
  removeFromGithub,
} from './github-runners.js';
import { type RunnerChange, type RunnerDirectoryFilter, RunnersRepository } from './runners.repository.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor, type ListRunnersQueryDto } from './dto/list-runners-query.dto.js';
import { API_PREFIX } from '../common/api.js';
import { AUDIT_ACTIONS } from './audit-actions.js';
import { NameTaken, ProvisioningAttempts } from './provisioning-attempts.js';

/** How long a caller has to start a JIT runner before the service may treat it as unused. */
export const JIT_CONFIG_VALIDITY_MS = 60 * 60 * 1000;
/** A prefix collision picks a new suffix; 24 random bits make more than a few collisions unlikely. */
export const MAX_NAME_ATTEMPTS = 5;

/**
 * A pending row still without GitHub's id after this long belongs to a request that died (a crash or
 * restart between writing the row and hearing from GitHub); it no longer holds its name.
 */
export const ABANDONED_AFTER_MS = 60_000;
/** The failure code of such a row. */
export const REQUEST_ABANDONED = 'REQUEST_ABANDONED';

/** Failures after which GitHub may have created the runner although we never got its answer. */
const ANSWER_MAY_BE_LOST: readonly string[] = [ERROR_CODES.GITHUB_UNAVAILABLE, ERROR_CODES.GITHUB_TIMEOUT, REQUEST_ABANDONED];

/** The rules of runners: names, labels, ownership, and keeping the database in step with GitHub. */
@Injectable()
export class RunnersService {
  private readonly logger = new Logger(RunnersService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly attempts: ProvisioningAttempts,
  ) {}

  /**
   * Issues a JIT config for one ephemeral runner. The runner row and its audit event are written
   * before GitHub is called; GitHub's answer then completes the row or marks it failed. Every
   * attempt ends with an audit event: succeeded, denied or failed.
   */
  async provisionJit(actor: Actor, request: CreateJitRunnerDto): Promise<JitRunnerResponseDto> {
    try {
      const plan = this.planJit(request);
      if (request.runner_name !== undefined) {
        return await this.provisionJitNamed(actor, request.runner_name, plan, { explicitName: true });
      }
      return await this.provisionJitWithPrefix(actor, request.runner_name_prefix as string, plan);
    } catch (error) {
      await this.attempts.recordUnaudited(actor, 'jit', request.runner_name ?? null, error, {
        ...(request.runner_name_prefix !== undefined && { runner_name_prefix: request.runner_name_prefix }),
      });
      throw error;
    }
  }

  private async provisionJitWithPrefix(actor: Actor, prefix: string, plan: JitPlan): Promise<JitRunnerResponseDto> {
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
    // The shape of every other validation error: one violation per field.
    const invalidField = (field: string, message: string) =>
      new DomainError(ERROR_CODES.VALIDATION_FAILED, message, { violations: [{ field, message }] });
    const groupId = this.config.github.runnerGroupId;
    if (request.runner_group_id !== undefined && request.runner_group_id !== groupId) {
      throw invalidField(
        'runner_group_id',
        `runner_group_id must be ${groupId}: this service registers runners in runner group ${groupId} only`,
      );
    }
    // GitHub registers exactly the labels sent to a JIT runner: the system labels go first, and a
    // label sent twice (or one that is also a system label) once.
    const systemLabels = this.config.github.systemLabels;
    const labels = [...new Set([...systemLabels, ...request.labels])];
    if (labels.length > MAX_LABELS) {
      throw invalidField(
        'labels',
        `labels must hold at most ${MAX_LABELS - systemLabels.length} labels besides the ${systemLabels.length} system labels (GitHub allows ${MAX_LABELS} in all)`,
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
    let holder = await this.runners.findActiveByName(name);
    if (holder && this.isAbandoned(holder)) {
      await this.abandon(actor, holder);
      holder = null;
    }
    let replacing: RunnerEntity | undefined;
    if (holder) {
      if (!options.explicitName) throw new NameTaken(name, 'taken by another runner');
      const ownPending =
        holder.ownerIssuer === actor.issuer && holder.ownerSubject === actor.subject && holder.status === 'pending';
      if (!ownPending) throw new NameTaken(name, 'taken by another runner');
      if (holder.kind !== 'jit') {
        throw new NameTaken(
          name,
          'held by your pending registration-token runner',
          'choose another runner_name, or delete that runner first (a registration token is never replaced by a JIT runner)',
        );
      }
      // A retry by the same owner for its own runner that never came online replaces it.
      await this.removeForReplacement(holder);
      replacing = holder;
    }

    const runner = await this.attempts.reserve(actor, {
      runner: { name, kind: 'jit', ephemeral: true, labels: plan.labels, runnerGroupId: plan.runnerGroupId },
      details: { labels: plan.labels, runner_group_id: plan.runnerGroupId },
      replacing: replacing && {
        runner: replacing,
        details: {
          github_runner_id: replacing.githubRunnerId,
          reason: 'the owner asked for the same name again while it was pending',
        },
      },
      takenReason: options.explicitName ? 'taken by another runner' : 'taken',
    });
    let jit: JitConfig;
    try {
      jit = await this.generateJit(actor, name, plan);
    } catch (error) {
      await this.recordGithubRefusal(actor, runner, plan, error);
      if (error instanceof GithubError && error.code === ERROR_CODES.GITHUB_NAME_TAKEN) {
        throw this.attempts.markAudited(new NameTaken(name, 'taken on GitHub by another runner'));
      }
      throw error;
    }
    return this.complete(actor, runner, plan, jit);
  }

  /**
   * generate-jitconfig, with one recovery: when GitHub says the name is taken by a runner that one of
   * this owner's failed attempts left behind (GitHub created it, we never handed it out), that runner
   * is removed and the call made once more.
   */
  private async generateJit(actor: Actor, name: string, plan: JitPlan): Promise<JitConfig> {
    const request = { name, ...plan };
    try {
      return await this.github.generateJitConfig(request);
    } catch (error) {
      if (!(error instanceof GithubError && error.code === ERROR_CODES.GITHUB_NAME_TAKEN)) throw error;
      if (!(await this.removeLeftover(actor, name))) throw error;
      return this.github.generateJitConfig(request);
    }
  }

  /** Best effort: removes the runner named `name` if one of the owner's failed attempts created it. */
  private async removeLeftover(actor: Actor, name: string): Promise<boolean> {
    try {
      const found = await this.github.findRunnerByName(name);
      if (!found) return false;
      const attempts = await this.runners.listFailedAttempts(actor, name);
      const leftByUs = attempts.some(
        (attempt) =>
          attempt.githubRunnerId === found.id ||
          (ANSWER_MAY_BE_LOST.includes(attempt.failureCode ?? '') && looksFreshlyCreatedFor(found, planOf(attempt))),
      );
      if (!leftByUs) return false;
      await this.github.deleteRunner(found.id);
      this.logger.warn(`Removed runner ${name} (GitHub id ${found.id}) left on GitHub by an earlier failed attempt`);
      return true;
    } catch (error) {
      this.logger.warn(`Could not check GitHub for a runner ${name} left by an earlier attempt: ${(error as Error).message}`);
      return false;
    }
  }

  /** Stores GitHub's runner id and writes the success event; undoes the GitHub runner if that fails. */
  private async complete(actor: Actor, runner: RunnerEntity, plan: JitPlan, jit: JitConfig): Promise<JitRunnerResponseDto> {
    const expiresAt = new Date(Date.now() + JIT_CONFIG_VALIDITY_MS);
    let provisioned: RunnerEntity | null;
    try {
      provisioned = await this.runners.transaction(async (manager) => {
        const change = { githubRunnerId: jit.runner.id, expiresAt };
        if (!(await this.runners.updateWhilePending(manager, runner.id, null, change))) return null;
        await this.audit.record(manager, actor, {
          action: AUDIT_ACTIONS.PROVISION_JIT,
          outcome: 'succeeded',
          runnerId: runner.id,
          runnerName: runner.name,
          details: {
            github_runner_id: jit.runner.id,
            labels: plan.labels,
            runner_group_id: plan.runnerGroupId,
            jit_config_fingerprint: fingerprint(jit.encodedJitConfig),
          },
        });
        // The response needs only what this request set; no need to read the row back.
        return { ...runner, ...change };
      });
    } catch (error) {
      await this.discardCreated(actor, runner, jit.runner.id, error);
      throw error;
    }
    if (!provisioned) {
      // A newer request for the same name replaced this one while GitHub was answering.
      const superseded = new NameTaken(runner.name, 'being provisioned again by a newer request');
      await this.discardCreated(actor, runner, jit.runner.id, superseded);
      throw superseded;
    }
    this.logger.log(`Provisioned JIT runner ${runner.name} (GitHub id ${jit.runner.id}) for ${actor.name}`);
    return toJitRunnerResponse(provisioned, jit.encodedJitConfig);
  }

  /** GitHub created the runner but we cannot hand it out: remove it and mark our attempt failed. */
  private async discardCreated(actor: Actor, runner: RunnerEntity, githubRunnerId: number, error: unknown): Promise<void> {
    let removed = false;
    try {
      await this.github.deleteRunner(githubRunnerId);
      removed = true;
    } catch (deleteError) {
      this.logger.warn(`Could not remove runner ${runner.name} (GitHub id ${githubRunnerId}): ${(deleteError as Error).message}`);
    }
    // The GitHub id stays on the failed row, so a retry can recognise the runner if it was not removed.
    const details = { github_runner_id: githubRunnerId, removed_from_github: removed };
    await this.attempts.fail(actor, runner, error, details, githubRunnerId);
  }

  /**
   * GitHub did not create the runner, or we cannot tell. generate-jitconfig is not idempotent: after
   * a 5xx or a timeout the runner may exist on GitHub although we never got its config, and nobody
   * could ever start it, so look it up by name and remove it if it is ours. Then mark the row failed.
   */
  private async recordGithubRefusal(actor: Actor, runner: RunnerEntity, plan: JitPlan, error: unknown): Promise<void> {
    const details: Record<string, unknown> = {};
    if (error instanceof GithubError && ANSWER_MAY_BE_LOST.includes(error.code)) {
      details.orphan = await this.removeOrphan(runner.name, plan);
    }
    await this.attempts.fail(actor, runner, error, details);
  }

  /** Best effort: removes the runner GitHub created for a lost answer, and says what it found. */
  private async removeOrphan(name: string, plan: JitPlan): Promise<'removed' | 'none' | 'not-ours' | 'unknown'> {
    try {
      const found = await this.github.findRunnerByName(name);
      if (!found) return 'none';
      if (!looksFreshlyCreatedFor(found, plan)) return 'not-ours';
      await this.github.deleteRunner(found.id);
      this.logger.warn(`Removed runner ${name} (GitHub id ${found.id}) that GitHub created although its answer was lost`);
      return 'removed';
    } catch (error) {
      this.logger.warn(`Could not check GitHub for an orphaned runner ${name}: ${(error as Error).message}`);
      return 'unknown';
    }
  }

  /**
   * Removes the owner's pending runner from GitHub so a new one can take its name (reserve then
   * marks it deleted). Refused while its own request is still under way, or once it has connected.
   */
  private async removeForReplacement(holder: RunnerEntity): Promise<void> {
    if (holder.githubRunnerId === null) {
      throw new NameTaken(holder.name, 'still being provisioned by an earlier request', 'retry in a moment');
    }
    const onGithub = await this.github.getRunner(holder.githubRunnerId);
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

  /** Only a JIT row waits for GitHub's id; a registration-token row has none until it is seen on GitHub. */
  private isAbandoned(runner: RunnerEntity): boolean {
    return (
      runner.kind === 'jit' &&
      runner.status === 'pending' &&
      runner.githubRunnerId === null &&
      Date.now() - runner.createdAt.getTime() > ABANDONED_AFTER_MS
    );
  }

  /**
   * Frees the name an abandoned attempt still holds: removes what GitHub may have created for it
   * (only if it looks exactly like that attempt's runner), then marks it failed with its closing event.
   */
  private async abandon(actor: Actor, runner: RunnerEntity): Promise<void> {
    const orphan = await this.removeOrphan(runner.name, planOf(runner));
    await this.runners.transaction(async (manager) => {
      const failed = await this.runners.updateWhilePending(manager, runner.id, null, {
        status: 'failed',
        failureCode: REQUEST_ABANDONED,
        failureReason: 'The request that created this runner never finished',
      });
      if (!failed) return;
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.PROVISION_JIT,
        outcome: 'failed',
        runnerId: runner.id,
        runnerName: runner.name,
        details: { error_code: REQUEST_ABANDONED, orphan, noticed_by: actor.name },
      });
    });
  }

  /** One page of the actor's runners, newest first, with the cursor of the next page. */
  async listRunners(actor: Actor, query: ListRunnersQueryDto): Promise<RunnerListResponseDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    // One more than asked tells whether there is a next page.
    const page = await this.runners.listOwnedPage(actor, { status: query.status, limit: limit + 1, afterId });
    const runners = page.slice(0, limit);
    const nextCursor = page.length > limit ? encodeCursor(runners[runners.length - 1].id) : null;
    let next: string | null = null;
    if (nextCursor !== null) {
      const params = new URLSearchParams();
      if (query.status !== undefined) params.set('status', query.status);
      if (query.limit !== undefined) params.set('limit', String(limit));
      params.set('cursor', nextCursor);
      next = `/${API_PREFIX}/runners?${params.toString()}`;
    }
    return { runners: runners.map(toRunnerResponse), next_cursor: nextCursor, next };
  }

  /** Every owner's runners, or one user's: the ops view behind `list-runners`. */
  async listAllRunners(_actor: Actor, filter: RunnerDirectoryFilter): Promise<RunnerResponseDto[]> {
    const runners = await this.runners.listAll(filter);
    return runners.map(toRunnerResponse);
  }

  async getRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    return toRunnerResponse(await this.findOwnedOrThrow(actor, idOrName));
  }

  /**
   * Reads the runner from GitHub now (by id, or by name while a registration-token runner's id is
   * unknown) and records what it says: online is active, offline is offline (a runner that never
   * connected stays pending); gone from GitHub is deleted, except a pending runner inside the grace
   * period. The change and its audit event commit together.
   */
  async refreshRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    const runner = await this.findOwnedOrThrow(actor, idOrName);
    // A deleted or failed runner is history; a JIT request still under way has nothing to read yet.
    if (TERMINAL_STATUSES.includes(runner.status) || (runner.kind === 'jit' && runner.githubRunnerId === null)) {
      return toRunnerResponse(runner);
    }
    let onGithub;
    try {
      onGithub = await findOnGithub(this.github, runner);
    } catch (error) {
      await this.recordOutcome(actor, AUDIT_ACTIONS.REFRESH, runner, 'failed', { error_code: errorCodeOf(error) });
      throw error;
    }
    const now = new Date();
    let change: RunnerChange;
    if (onGithub) {
      const observed = observedState(runner, onGithub, now);
      change = { status: observed.status, busy: observed.busy, githubRunnerId: observed.githubRunnerId };
      if (observed.lastSeenAt) change.lastSeenAt = observed.lastSeenAt;
    } else if (insideGracePeriod(runner, this.config.runners.pendingGraceMinutes, now)) {
      change = {};
    } else {
      change = { status: 'deleted', busy: false, deletedAt: now };
    }
    const to = change.status ?? runner.status;
    const changed = await this.runners.transaction(async (manager) => {
      if (Object.keys(change).length > 0 && !(await this.runners.updateIfUnchanged(manager, runner, change))) return false;
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.REFRESH,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: {
          from: runner.status,
          to,
          on_github: onGithub ? { id: onGithub.id, status: onGithub.status, busy: onGithub.busy } : null,
        },
      });
      return true;
    });
    if (!changed) {
      // Another request or the sync changed it meanwhile: show what it is now.
      return toRunnerResponse(await this.findOwnedOrThrow(actor, runner.id));
    }
    return toRunnerResponse({ ...runner, ...change, updatedAt: now });
  }

  /**
   * Removes the runner from GitHub (already gone there counts as done), then marks it deleted with
   * its audit event. A runner running a job stays as it is: RUNNER_BUSY. Deleting a deleted runner
   * answers it as it is.
   */
  async deleteRunner(actor: Actor, idOrName: string): Promise<RunnerResponseDto> {
    const runner = await this.findOwnedOrThrow(actor, idOrName);
    if (TERMINAL_STATUSES.includes(runner.status)) return toRunnerResponse(runner);
    if (runner.kind === 'jit' && runner.githubRunnerId === null && !this.isAbandoned(runner)) {
      await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'denied', { error_code: ERROR_CODES.RUNNER_BUSY });
      throw new DomainError(
        ERROR_CODES.RUNNER_BUSY,
        `Runner "${runner.name}" is still being provisioned by its request; try again in a moment`,
        { runner_id: runner.id },
      );
    }
    let github: GithubRemoval;
    try {
      github = await removeFromGithub(this.github, runner);
    } catch (error) {
      if (isRunnerBusyError(error)) {
        await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'denied', { error_code: ERROR_CODES.RUNNER_BUSY });
        throw new DomainError(
          ERROR_CODES.RUNNER_BUSY,
          `Runner "${runner.name}" is running a job on GitHub and was left as it is; delete it when the job is done`,
          { runner_id: runner.id, github_runner_id: runner.githubRunnerId },
        );
      }
      await this.recordOutcome(actor, AUDIT_ACTIONS.DELETE, runner, 'failed', { error_code: errorCodeOf(error) });
      throw error;
    }
    const now = new Date();
    const change: RunnerChange = { status: 'deleted', busy: false, deletedAt: now };
    // GitHub has removed it: the row follows whatever a refresh or sync wrote meanwhile.
    const changed = await this.runners.transaction(async (manager) => {
      const marked = await this.runners.updateWhileLive(manager, runner.id, change);
      await this.audit.record(manager, actor, {
        action: AUDIT_ACTIONS.DELETE,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: { from: runner.status, github, github_runner_id: runner.githubRunnerId, ...(!marked && { already: 'deleted' }) },
      });
      return marked;
    });
    this.logger.log(`Deleted runner ${runner.name} (GitHub: ${github}) for ${actor.name}`);
    if (!changed) return toRunnerResponse(await this.findOwnedOrThrow(actor, runner.id));
    return toRunnerResponse({ ...runner, ...change, updatedAt: now });
  }

  private async findOwnedOrThrow(actor: Actor, idOrName: string): Promise<RunnerEntity> {
    const runner = await this.runners.findOwned(actor, idOrName);
    if (!runner) {
      throw new DomainError(ERROR_CODES.RUNNER_NOT_FOUND, `You have no runner with the id or name "${idOrName}"`);
    }
    return runner;
  }

  /** An audit event of its own, for a request that changed nothing (denied, or failed at GitHub). */
  private async recordOutcome(
    actor: Actor,
    action: string,
    runner: RunnerEntity,
    outcome: 'denied' | 'failed',
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.runners.transaction((manager) =>
      this.audit.record(manager, actor, { action, outcome, runnerId: runner.id, runnerName: runner.name, details }),
    );
  }
}
