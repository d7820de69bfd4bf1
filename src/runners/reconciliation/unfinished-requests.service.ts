import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../../auth/actor.js';
import { AuditService } from '../../audit/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { Transactions } from '../../database/transactions.service.js';
import { GithubClient } from '../../github/github.client.js';
import type { GithubRunner } from '../../github/github.types.js';
import { AUDIT_ACTIONS } from '../audit-actions.constants.js';
import { ProvisioningAttempts } from '../provisioning/provisioning-attempts.service.js';
import type { RunnerEntity } from '../runner.entity.js';
import {
  hasConnected,
  looksFreshlyCreatedFor,
  neverHandedOut,
  planOf,
  requestIsOver,
  requestIsOverAfterMs,
  requestProgress,
} from '../runner-state.rules.js';
import { RunnersRepository } from '../runners.repository.js';
import { changeReport, type RunnerChangeReport } from './reconciliation-report.js';
import { GithubRunnersService } from '../github-runners.service.js';

/** Where a live row's request stands, for a sync. */
export type RequestStanding = 'finished' | 'under-way' | 'unfinished';

/** What settling an unfinished row came to. */
export type Settled =
  /** The attempt closed as failed (REQUEST_ABANDONED), with what GitHub had made for it removed. */
  | { outcome: 'abandoned'; report: RunnerChangeReport }
  /** A JIT runner whose config is not known to have reached its caller, unused for an hour: removed from GitHub, the row deleted. */
  | { outcome: 'withdrawn'; report: RunnerChangeReport }
  /** The runner has connected, so its config did reach someone: the sync updates it as usual. */
  | { outcome: 'handed-out' }
  /** Another request, sync or cleanup changed the row first. */
  | { outcome: 'changed' };

const WITHDRAWN_REASON = 'its JIT config is not known to have reached the caller, and it did not connect in the hour the config was valid';
const ABANDONED_REASON = 'its request never finished (the service stopped while serving it)';

/**
 * Rows written by a request that did not finish: the process serving it died (a crash, kill -9, a
 * lost machine) between writing the pending row and handing the credential out, or the answer never
 * went out (a 504, a caller that hung up). A sync settles such a row once nobody can hold its
 * credential, and only then: before, its request may still be under way, or its caller may still
 * start the runner.
 */
@Injectable()
export class UnfinishedRequests {
  private readonly logger = new Logger(UnfinishedRequests.name);
  private readonly requestOverAfterMs: number;
  /** How long a JIT config is valid (JIT_START_TIMEOUT_MINUTES): a runner nobody started by then is not going to be. */
  private readonly startTimeoutMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly attempts: ProvisioningAttempts,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
    private readonly githubRunners: GithubRunnersService,
    private readonly transactions: Transactions,
  ) {
    this.requestOverAfterMs = requestIsOverAfterMs(config.app.requestDeadlineMs);
    this.startTimeoutMs = config.runners.jitStartTimeoutMinutes * 60_000;
  }

  /**
   * 'under-way' while the request may still be waiting for GitHub (GitHub may not have its runner
   * yet); 'unfinished' once it is over without having heard from GitHub, or, for a JIT runner whose
   * config is not known to have gone out, once it has not connected in the config's hour
   * (neverHandedOut: whether the answer went out just before the service died cannot be known,
   * and a caller who got it starts the runner); else 'finished'. Until then such a runner is on
   * GitHub like any other.
   */
  standing(runner: RunnerEntity, now: Date): RequestStanding {
    const progress = requestProgress(runner);
    if (progress === 'handing-out') return neverHandedOut(runner, now.getTime(), this.startTimeoutMs) ? 'unfinished' : 'finished';
    if (progress === 'done') return 'finished';
    return requestIsOver(runner, now.getTime(), this.requestOverAfterMs) ? 'unfinished' : 'under-way';
  }

  /**
   * Settles one unfinished row; `listed` is its runner in the sync's listing, when the row has a
   * GitHub id and GitHub listed it. A request that never heard from GitHub: what GitHub may have
   * created for it (a runner of its name that looks exactly like what it asked for; any other is
   * left alone) is removed, and the attempt gets the closing event it never had. A JIT runner never
   * handed out: removed from GitHub and marked deleted, unless it has connected after all. Throws
   * when GitHub cannot be asked; the row then stays for the next sync.
   */
  async settle(actor: Actor, runner: RunnerEntity, listed: GithubRunner | undefined): Promise<Settled> {
    if (requestProgress(runner) === 'handing-out') return this.withdraw(actor, runner, listed);
    // The name's next request may have closed this row and made its own runner of the same name
    // since the sync read it: that runner looks exactly like this one's would, so look again first.
    const holder = await this.runners.findActiveByName(runner.name);
    if (holder?.id !== runner.id || requestProgress(holder) !== 'asking-github') return { outcome: 'changed' };
    // A registration token registers nothing by itself: there is nothing on GitHub to look for.
    const orphan = runner.kind === 'jit' ? await this.removeOrphan(runner) : undefined;
    const closed = await this.attempts.closeAbandoned(actor, runner, orphan === undefined ? {} : { orphan });
    if (!closed) return { outcome: 'changed' };
    const reason = orphan === undefined ? ABANDONED_REASON : `${ABANDONED_REASON}; ${ORPHAN_REPORTS[orphan]}`;
    return { outcome: 'abandoned', report: changeReport(runner, 'failed', reason) };
  }

  /** The runner GitHub created for a request whose answer died with it, by name: removed if it is exactly that. */
  private removeOrphan(runner: RunnerEntity): Promise<Orphan> {
    return this.githubRunners.removeLeftover(runner.name, 'of a request that never finished', (found) =>
      looksFreshlyCreatedFor(found, planOf(runner)),
    );
  }

  private async withdraw(actor: Actor, runner: RunnerEntity, listed: GithubRunner | undefined): Promise<Settled> {
    if (listed && hasConnected(listed)) return { outcome: 'handed-out' };
    const githubRunnerId = runner.githubRunnerId as number;
    // The listing may be minutes old: a runner that connected since is someone's, and stays.
    const current = await this.github.getRunner(githubRunnerId);
    if (current && hasConnected(current)) return { outcome: 'handed-out' };
    const github = await this.github.deleteRunner(githubRunnerId);
    const done = await this.transactions.run(async (tx) => {
      const changed = await this.runners.updateWhilePending(tx, runner.id, githubRunnerId, {
        status: 'deleted',
        busy: false,
        deletedAt: new Date(),
      });
      if (!changed) return false;
      await this.audit.record(tx, actor, {
        action: AUDIT_ACTIONS.SYNC,
        outcome: 'succeeded',
        runnerId: runner.id,
        runnerName: runner.name,
        details: { from: runner.status, to: 'deleted', reason: WITHDRAWN_REASON, github, github_runner_id: githubRunnerId },
      });
      return true;
    });
    if (!done) return { outcome: 'changed' };
    this.logger.warn(`Removed runner ${runner.name} (GitHub id ${githubRunnerId}): ${WITHDRAWN_REASON}`);
    return { outcome: 'withdrawn', report: changeReport(runner, 'deleted', WITHDRAWN_REASON) };
  }
}

/** What GitHub had under an abandoned JIT row's name. */
type Orphan = 'removed' | 'none' | 'not-ours';

const ORPHAN_REPORTS: Record<Orphan, string> = {
  removed: 'the runner GitHub made for it was removed',
  none: 'GitHub has no runner of its name',
  'not-ours': "GitHub's runner of its name is not the one it asked for, left alone",
};
