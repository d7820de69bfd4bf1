/**
 * bind_to_run, seen from the jobs a runner takes: a bound runner carries exactly one label,
 * run-<run_id>-<run_attempt> (see src/policy), so the run it is bound to is read from its labels.
 * Pure functions.
 */
import { RUN_LABEL_PATTERN } from '../../policy/policy.types.js';

/** The workflow run (and attempt) a runner is bound to. */
export interface BoundRun {
  runId: number;
  runAttempt: number;
}

/** The run a runner's labels bind it to, or null for a runner that is not bound. */
export function boundRunOf(labels: readonly string[]): BoundRun | null {
  const runLabels = labels.filter((label) => RUN_LABEL_PATTERN.test(label));
  // bind_to_run gives exactly one label; anything else was not issued by it.
  if (runLabels.length !== 1 || labels.length !== 1) return null;
  const [, runId, runAttempt] = /^run-(\d+)-(\d+)$/.exec(runLabels[0]) as RegExpExecArray;
  return { runId: Number(runId), runAttempt: Number(runAttempt) };
}

/**
 * True when a job of another run (or another attempt of the run) started on a bound runner. An
 * event without the attempt is judged by the run alone.
 */
export function breaksBinding(bound: BoundRun, job: { runId: number; runAttempt: number | null }): boolean {
  if (job.runId !== bound.runId) return true;
  return job.runAttempt !== null && job.runAttempt !== bound.runAttempt;
}
