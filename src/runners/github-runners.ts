/**
 * How this service recognises its runners on GitHub and reads their state: shared by provisioning,
 * refresh, delete, sync and cleanup. Pure functions over GitHub's answers (and the client, for the
 * two lookups), so every path applies the same rules.
 */
import { ERROR_CODES } from '../common/domain-error.js';
import type { GithubClient } from '../github/github.client.js';
import { GithubError } from '../github/github.errors.js';
import type { GithubRunner } from '../github/github.types.js';
import type { RunnerEntity, RunnerStatus } from './runner.entity.js';
import { DEFAULT_WORK_FOLDER } from './runner-rules.js';

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

/**
 * Finds the row's runner on GitHub: by id once known; before that, a registration-token runner by
 * its name (config.sh registered it under that name with our token). A JIT row without an id is a
 * request still under way or one that died: by name only if it looks exactly like what it asked for.
 * Null when GitHub has no such runner.
 */
export async function findOnGithub(github: GithubClient, runner: RunnerEntity): Promise<GithubRunner | null> {
  if (runner.githubRunnerId !== null) return github.getRunner(runner.githubRunnerId);
  const found = await github.findRunnerByName(runner.name);
  if (!found) return null;
  if (runner.kind === 'registration_token') return found;
  return looksFreshlyCreatedFor(found, planOf(runner)) ? found : null;
}

/** What removing a runner from GitHub came to. */
export type GithubRemoval = 'deleted' | 'already-gone' | 'never-registered';

/**
 * Removes the row's runner from GitHub; a runner GitHub no longer has (or never had) counts as
 * removed. A runner running a job throws GITHUB_RUNNER_BUSY and stays.
 */
export async function removeFromGithub(github: GithubClient, runner: RunnerEntity): Promise<GithubRemoval> {
  if (runner.githubRunnerId !== null) return github.deleteRunner(runner.githubRunnerId);
  const found = await findOnGithub(github, runner);
  if (!found) return 'never-registered';
  return github.deleteRunner(found.id);
}

export function isRunnerBusyError(error: unknown): boolean {
  return error instanceof GithubError && error.code === ERROR_CODES.GITHUB_RUNNER_BUSY;
}
