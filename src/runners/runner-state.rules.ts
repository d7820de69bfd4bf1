/**
 * How a row relates to its runner on GitHub and to time: shared by provisioning, refresh, delete,
 * sync and cleanup, so every path applies the same rules. Pure functions over rows and GitHub's
 * answers; the lookups that need GitHub are in GithubRunnersService.
 */
import { ERROR_CODES } from '../common/domain-error.js';
import { GithubError } from '../github/github.errors.js';
import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity, RunnerStatus } from './runner.entity.js';
import { DEFAULT_WORK_FOLDER } from './runner-input.rules.js';

/** What a JIT runner was (or is to be) registered with. */
export interface JitPlan {
  labels: string[];
  runnerGroupId: number;
  workFolder: string;
}

/** What a runner row was registered with, to recognise its GitHub runner later. */
export function planOf(runner: RunnerEntity): JitPlan {
  return { labels: runner.labels, runnerGroupId: runner.runnerGroupId, workFolder: DEFAULT_WORK_FOLDER };
}

/** The failure code of a row whose request died before GitHub answered (a crash or restart). */
export const REQUEST_ABANDONED = 'REQUEST_ABANDONED';

/**
 * After its deadline a request's GitHub calls fail at once and only its database writes are left;
 * they may wait for the database (a PGlite session up to 30 s). Past this margin it is surely over.
 */
const REQUEST_WRITES_MARGIN_MS = 45_000;

/**
 * How long after a request began it has surely finished, or died with its process (60 s with the
 * default REQUEST_DEADLINE_MS of 15 s). Provisioning happens only in HTTP requests, each bounded by it.
 */
export function requestIsOverAfterMs(requestDeadlineMs: number): number {
  return requestDeadlineMs + REQUEST_WRITES_MARGIN_MS;
}

/**
 * How far the request that wrote a pending row got, as the row tells: 'asking-github' (a JIT row
 * without GitHub's id, a registration-token row without its token's expiry), 'handing-out' (a JIT
 * runner GitHub created whose config is not known to have reached the caller: expires_at is written
 * once the answer has gone out), or 'done'. Any other status is 'done'.
 */
export type RequestProgress = 'asking-github' | 'handing-out' | 'done';

export function requestProgress(runner: RunnerEntity): RequestProgress {
  if (runner.status !== 'pending') return 'done';
  if (runner.kind === 'jit') {
    if (runner.githubRunnerId === null) return 'asking-github';
    return runner.expiresAt === null ? 'handing-out' : 'done';
  }
  return runner.expiresAt === null ? 'asking-github' : 'done';
}

/**
 * A JIT runner whose config is not known to have reached its caller (the request ended, or the
 * service died, between completing the row and sending the answer), and which has not connected
 * in the time its config was valid (`startTimeoutMs`, JIT_START_TIMEOUT_MINUTES): nobody is going to
 * start it. A caller that did get the config and started the runner made it connect, and it is no
 * longer pending.
 */
export function neverHandedOut(runner: RunnerEntity, now: number, startTimeoutMs: number): boolean {
  return requestProgress(runner) === 'handing-out' && now - runner.createdAt.getTime() > startTimeoutMs;
}

/** Whether the request that wrote the row began more than `overAfterMs` ago: it is over, one way or the other. */
export function requestIsOver(runner: RunnerEntity, now: number, overAfterMs: number): boolean {
  return now - runner.createdAt.getTime() > overAfterMs;
}

/**
 * A JIT row whose request died before GitHub answered: it no longer holds its name. Only a JIT row
 * waits for GitHub's id; a registration-token row has none until the runner is seen on GitHub.
 */
export function isAbandoned(runner: RunnerEntity, now: number, overAfterMs: number): boolean {
  return runner.kind === 'jit' && requestProgress(runner) === 'asking-github' && requestIsOver(runner, now, overAfterMs);
}

/**
 * A pending row whose request has not heard from GitHub yet and may still be under way: a JIT row
 * waits for GitHub's id, a registration-token row for its token's expiry.
 */
export function isStillProvisioning(runner: RunnerEntity, now: number, overAfterMs: number): boolean {
  return requestProgress(runner) === 'asking-github' && !requestIsOver(runner, now, overAfterMs);
}

/**
 * A JIT runner GitHub created for a call whose answer we lost looks exactly like this: never
 * connected (os unknown, offline, idle) and registered with the labels and group we sent. Anything
 * else with that name is somebody else's runner and is never touched.
 */
export function looksFreshlyCreatedFor(runner: GithubRunner, plan: JitPlan): boolean {
  const labels = new Set(runner.labels.map((label) => label.name.toLowerCase()));
  return (
    runner.os === 'unknown' &&
    runner.status === 'offline' &&
    !runner.busy &&
    (runner.runner_group_id === undefined || runner.runner_group_id === plan.runnerGroupId) &&
    labels.size === plan.labels.length &&
    plan.labels.every((label) => labels.has(label))
  );
}

/**
 * Why a runner GitHub has under a registration-token row's name is not the one config.sh registered
 * with the row's token, or null when it may be. GitHub does not say which token registered a runner,
 * nor when: a runner is the row's only if it appeared after the token was issued (its id is above
 * the highest id known then: ids only grow), in the row's runner group, with every label the command
 * passes (config.sh adds self-hosted, OS and architecture itself; labels compare case-insensitively).
 */
export function registrationMismatch(row: RunnerEntity, onGithub: GithubRunner): string | null {
  if (row.githubRunnerIdFloor !== null && onGithub.id <= row.githubRunnerIdFloor) {
    return `registered before the token was issued (GitHub id ${onGithub.id}, not above ${row.githubRunnerIdFloor})`;
  }
  if (onGithub.runner_group_id !== undefined && onGithub.runner_group_id !== row.runnerGroupId) {
    return `in runner group ${onGithub.runner_group_id}, not ${row.runnerGroupId}`;
  }
  const labels = new Set(onGithub.labels.map((label) => label.name.toLowerCase()));
  const lacking = row.labels.filter((label) => !labels.has(label.toLowerCase()));
  if (lacking.length > 0) return `without the label(s) ${lacking.join(', ')}`;
  return null;
}

/** A runner that has run at all (GitHub learned its OS, or it is online or busy). */
export function hasConnected(runner: GithubRunner): boolean {
  return runner.os !== 'unknown' || runner.status === 'online' || runner.busy;
}

/** The state a row should have, given what GitHub says about its runner. */
export interface ObservedState {
  status: RunnerStatus;
  busy: boolean;
  githubRunnerId: number | null;
  /** Set when GitHub shows the runner online: the last time it was seen working. */
  lastSeenAt?: Date;
}

/**
 * GitHub's `online` is active, `offline` is offline, except that a runner which has never connected
 * stays pending (a new JIT runner is offline on GitHub until it starts).
 */
export function observedState(runner: RunnerEntity, onGithub: GithubRunner, now: Date): ObservedState {
  const base = { busy: onGithub.busy, githubRunnerId: onGithub.id };
  if (onGithub.status === 'online') return { ...base, status: 'active', lastSeenAt: now };
  if (runner.status === 'pending' && !hasConnected(onGithub)) return { ...base, status: 'pending' };
  return { ...base, status: 'offline' };
}

/** True when the observation changes what the row says (status, busy, GitHub id). */
export function changesRow(runner: RunnerEntity, observed: ObservedState): boolean {
  return runner.status !== observed.status || runner.busy !== observed.busy || runner.githubRunnerId !== observed.githubRunnerId;
}

/** A pending runner this young may simply not have registered yet; its absence proves nothing. */
export function insideGracePeriod(runner: RunnerEntity, graceMinutes: number, now: Date): boolean {
  return runner.status === 'pending' && now.getTime() - runner.createdAt.getTime() < graceMinutes * 60_000;
}

export function isRunnerBusyError(error: unknown): boolean {
  return error instanceof GithubError && error.code === ERROR_CODES.GITHUB_RUNNER_BUSY;
}
