import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import type { Transaction } from '../../database/transactions.service.js';
import { RUN_LABEL_PATTERN } from '../../policy/policy.types.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import { type RunnerEntity, TERMINAL_STATUSES } from '../runner.entity.js';
import { type RunnerRemovalOutcome, RunnersService } from '../runners.service.js';
import { boundRunOf, breaksBinding } from './bound-run.rules.js';
import { ForeignRunnersService } from '../reconciliation/foreign-runners.service.js';
import { type RunnerJobChange, RunnerJobsRepository } from './runner-jobs.repository.js';
import { describeJob, type WorkflowJobEvent } from './workflow-job-event.js';

/**
 * What one workflow_job event came to: stable strings, for the webhook's answer, its log line and
 * the delivery metrics.
 */
export const JOB_EVENT_OUTCOMES = [
  /** in_progress: the runner is active and busy, with the job recorded. */
  'runner_started',
  /** completed: the job's conclusion recorded; a runner that is not ephemeral is idle again. */
  'runner_finished',
  /** completed: an ephemeral (JIT) runner finished its one job and is marked deleted. */
  'runner_deleted',
  /** A bind_to_run runner took a job of another run: audited, and the runner is removed. */
  'runner_hijack',
  /** Older than what the row already knows (events out of order), or about a deleted runner: its status is left as it is. */
  'stale',
  /** A registration-token runner whose GitHub id the sync has not confirmed yet: left to the sync. */
  'unadopted_runner',
  /** A self-hosted runner this service did not create: reported with the sync's foreign runners (ForeignRunnersService). */
  'foreign_runner',
  /** A self-hosted runner another tool manages (KNOWN_RUNNER_NAMES matches its name): none of this service's business. */
  'known_runner',
  /** A GitHub-hosted runner: none of this service's business. */
  'hosted_runner',
  /** queued, for labels one of this service's live runners has. */
  'queued_matched',
  /** queued for a self-hosted runner, for labels none of this service's live runners has (rts_webhook_deliveries_total counts them). */
  'queued_unmatched',
  /** queued for a GitHub-hosted runner (no self-hosted or run-<id>-<attempt> label). */
  'queued_elsewhere',
  /** An event of another organization's repository (the App is installed there too). */
  'other_owner',
  /** An action that says nothing about runners (waiting), or an event without a runner. */
  'ignored',
] as const;
export type JobEventOutcome = (typeof JOB_EVENT_OUTCOMES)[number];

export interface JobEventResult {
  outcome: JobEventOutcome;
  /** Set when the runner must be removed from GitHub once the event's transaction has committed. */
  removeRunnerId?: string;
}

/** The runner group GitHub-hosted runners run in. */
const GITHUB_HOSTED_GROUP = 'GitHub Actions';
/** The reason of a runner marked for removal because it broke its bind_to_run binding. */
export const HIJACK_REMOVAL_REASON = 'runner_hijack';

/**
 * Applies GitHub's workflow_job events to this service's runners: status in real time between two
 * syncs, the last job each runner took, and bind_to_run enforcement. Events can arrive late, twice
 * or never: a newer job's news is never overwritten by an older one's, a deleted runner is never
 * brought back, and the sync stays the source of truth for status.
 */
@Injectable()
export class RunnerJobEventsService {
  private readonly logger = new Logger(RunnerJobEventsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: RunnerJobsRepository,
    private readonly audit: AuditService,
    private readonly lifecycle: RunnersService,
    private readonly foreignRunners: ForeignRunnersService,
  ) {}

  /**
   * Applies one event inside the caller's transaction (the one that records the delivery), with its
   * audit events. A removal from GitHub it calls for is left to removeIfMarked, after the commit.
   */
  async applyWorkflowJob(tx: Transaction, actor: Actor, event: WorkflowJobEvent): Promise<JobEventResult> {
    if (event.owner.toLowerCase() !== this.config.github.org.toLowerCase()) return { outcome: 'other_owner' };
    if (event.action === 'queued') return { outcome: await this.countQueued(tx, event) };
    if ((event.action !== 'in_progress' && event.action !== 'completed') || event.runnerId === null) return { outcome: 'ignored' };
    const runner = await this.jobs.lockByGithubRunnerId(tx, event.runnerId);
    if (!runner) return { outcome: await this.reportUnknownRunner(tx, actor, event, event.runnerId) };

    const hijack = await this.checkBinding(tx, actor, runner, event);
    const live = !TERMINAL_STATUSES.includes(runner.status);
    const latest = runner.jobId === null || event.jobId > runner.jobId;
    const change: RunnerJobChange = hijack ? { removalReason: HIJACK_REMOVAL_REASON } : {};
    let outcome: JobEventOutcome = 'stale';
    if (event.action === 'in_progress') {
      if (latest) Object.assign(change, jobFields(event));
      // A deleted runner stays deleted, whatever arrives late.
      if (latest && live) {
        Object.assign(change, { status: 'active', busy: true, lastSeenAt: new Date() });
        outcome = 'runner_started';
      }
    } else if (latest || (event.jobId === runner.jobId && runner.jobConclusion === null)) {
      Object.assign(change, jobFields(event));
      outcome = 'runner_finished';
      if (live) {
        change.busy = false;
        // A JIT runner is ephemeral: GitHub removes it after its one job. A registration-token
        // runner may have ignored --ephemeral: the sync confirms it is gone before it is marked so.
        if (runner.kind === 'jit' && !hijack && runner.removalReason === null) {
          Object.assign(change, { status: 'deleted', deletedAt: new Date(), deletionReason: 'gone_from_github' });
          outcome = 'runner_deleted';
        }
      }
    }
    if (Object.keys(change).length > 0) await this.jobs.update(tx, runner.id, change);
    if (outcome === 'runner_deleted') await this.recordDeletion(tx, actor, runner, event);

    // A runner to remove goes now if GitHub lets us (it refuses while the job runs; the next
    // completed event or the cleanup tries again).
    const mustGo = live && (hijack || runner.removalReason !== null);
    return { outcome: hijack ? 'runner_hijack' : outcome, ...(mustGo && { removeRunnerId: runner.id }) };
  }

  /** Removes a runner marked for removal from GitHub, then marks it deleted (the delete path). */
  async removeIfMarked(actor: Actor, runnerId: string): Promise<RunnerRemovalOutcome> {
    return this.lifecycle.removeRunnerMarkedForRemoval(actor, runnerId);
  }

  /**
   * True, with its audit event and a warning, the first time a bind_to_run runner is seen taking a
   * job of another run (or another attempt of its run).
   */
  private async checkBinding(tx: Transaction, actor: Actor, runner: RunnerEntity, event: WorkflowJobEvent): Promise<boolean> {
    const bound = boundRunOf(runner.labels);
    if (bound === null || !breaksBinding(bound, event) || runner.removalReason !== null) return false;
    this.logger.warn(
      `Runner ${runner.name} is bound to run ${bound.runId} attempt ${bound.runAttempt} and took job ${event.jobId} of run ` +
        `${event.runId} attempt ${event.runAttempt ?? '?'} in ${event.repository}: runner_hijack; it is removed as soon as GitHub allows`,
    );
    await this.audit.record(tx, actor, {
      action: AUDIT_ACTIONS.RUNNER_HIJACK,
      outcome: 'denied',
      runnerId: runner.id,
      runnerName: runner.name,
      details: {
        bound_run: { run_id: bound.runId, run_attempt: bound.runAttempt },
        job: describeJob(event),
        event_action: event.action,
        delivery_id: event.deliveryId,
        github_runner_id: runner.githubRunnerId,
        owner: { issuer: runner.ownerIssuer, subject: runner.ownerSubject, name: runner.ownerName },
        policy_rule: runner.policyRule,
      },
    });
    return true;
  }

  private async recordDeletion(tx: Transaction, actor: Actor, runner: RunnerEntity, event: WorkflowJobEvent): Promise<void> {
    await this.audit.record(tx, actor, {
      action: AUDIT_ACTIONS.WEBHOOK,
      outcome: 'succeeded',
      runnerId: runner.id,
      runnerName: runner.name,
      details: {
        from: runner.status,
        to: 'deleted',
        reason: 'ephemeral runner finished its job',
        job: describeJob(event),
        delivery_id: event.deliveryId,
        github_runner_id: runner.githubRunnerId,
      },
    });
  }

  /** A runner that is not one of this service's rows, or not yet known by its GitHub id. */
  private async reportUnknownRunner(tx: Transaction, actor: Actor, event: WorkflowJobEvent, githubRunnerId: number): Promise<JobEventOutcome> {
    if (event.runnerGroupName === GITHUB_HOSTED_GROUP) return 'hosted_runner';
    if (event.runnerName !== null && (await this.jobs.findUnadoptedByName(tx, event.runnerName))) {
      this.logger.debug(`Runner ${event.runnerName} (GitHub id ${githubRunnerId}) took a job; the sync will confirm it is ours`);
      return 'unadopted_runner';
    }
    const foreign = await this.foreignRunners.recordSeenInJob(tx, actor, {
      githubRunnerId,
      runnerName: event.runnerName,
      runnerGroupName: event.runnerGroupName,
      repository: event.repository,
      jobId: event.jobId,
    });
    return foreign ? 'foreign_runner' : 'known_runner';
  }

  /**
   * A queued job for self-hosted runners (self-hosted or a run-<id>-<attempt> label among its
   * labels) that no live runner of ours could take (GitHub gives a job to a runner that has all of
   * its labels) is counted. Jobs for GitHub-hosted runners carry neither label.
   */
  private async countQueued(tx: Transaction, event: WorkflowJobEvent): Promise<JobEventOutcome> {
    const labels = [...new Set(event.labels.map((label) => label.toLowerCase()))];
    if (!labels.some((label) => label === 'self-hosted' || RUN_LABEL_PATTERN.test(label))) return 'queued_elsewhere';
    if (await this.jobs.anyLiveRunnerHasLabels(tx, labels)) return 'queued_matched';
    this.logger.debug(`Job ${event.jobId} of ${event.repository} is queued for labels no runner of this service has: ${labels.join(', ')}`);
    return 'queued_unmatched';
  }
}

function jobFields(event: WorkflowJobEvent): RunnerJobChange {
  return {
    jobRepository: event.repository,
    jobRunId: event.runId,
    jobRunAttempt: event.runAttempt,
    jobId: event.jobId,
    jobConclusion: event.action === 'completed' ? event.conclusion : null,
  };
}
