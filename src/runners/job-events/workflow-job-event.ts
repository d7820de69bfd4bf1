/**
 * One workflow_job webhook event, as the runners module needs it: which runner, which job of which
 * run. The webhooks module reads it from GitHub's payload (src/webhooks/workflow-job.payload.ts).
 */

/** The actions of a workflow_job event that say something about a runner or the demand for one. */
export const WORKFLOW_JOB_ACTIONS = ['queued', 'in_progress', 'completed', 'waiting'] as const;
export type WorkflowJobAction = (typeof WORKFLOW_JOB_ACTIONS)[number];

export interface WorkflowJobEvent {
  action: WorkflowJobAction;
  /** X-GitHub-Delivery, for the audit trail and the log. */
  deliveryId: string;
  /** The organization (or user) that owns the repository. */
  owner: string;
  /** owner/name. */
  repository: string;
  jobId: number;
  /** The job's name in its workflow, for people. */
  jobName: string | null;
  runId: number;
  /** Null when the event does not carry it (older payloads). */
  runAttempt: number | null;
  /** The job's runs-on labels. */
  labels: string[];
  /** Set from in_progress on; null while the job is queued. */
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupName: string | null;
  /** How the job ended (completed only). */
  conclusion: string | null;
}

/** The job part of an audit event or a log line. */
export function describeJob(event: WorkflowJobEvent): Record<string, unknown> {
  return {
    repository: event.repository,
    run_id: event.runId,
    run_attempt: event.runAttempt,
    job_id: event.jobId,
    ...(event.jobName !== null && { job_name: event.jobName }),
    ...(event.conclusion !== null && { conclusion: event.conclusion }),
  };
}
