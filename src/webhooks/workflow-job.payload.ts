/**
 * GitHub's workflow_job payload, read into the runners module's WorkflowJobEvent. The payload is
 * signed by GitHub, but is still read field by field: a shape this code does not expect is refused
 * with a message naming the field, never half-applied.
 */
import {
  WORKFLOW_JOB_ACTIONS,
  type WorkflowJobAction,
  type WorkflowJobEvent,
} from '../runners/job-events/workflow-job-event.js';

/** The longest job conclusion GitHub has (action_required); the column holds 32. */
const MAX_CONCLUSION_LENGTH = 32;
const MAX_TEXT_LENGTH = 256;
const MAX_LABELS = 100;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
const isText = (value: unknown, max = MAX_TEXT_LENGTH): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

/** The event, `ignored` for an action that says nothing about runners, or what is wrong with the payload. */
export type WorkflowJobReading = { event: WorkflowJobEvent } | { ignored: string } | { problem: string };

export function readWorkflowJob(payload: unknown, deliveryId: string): WorkflowJobReading {
  if (!isObject(payload)) return { problem: 'the body is not a JSON object' };
  const { action, workflow_job: job, repository, organization } = payload;
  if (typeof action !== 'string') return { problem: 'action must be a string' };
  if (!(WORKFLOW_JOB_ACTIONS as readonly string[]).includes(action)) return { ignored: action.slice(0, 64) };
  if (!isObject(job)) return { problem: 'workflow_job must be an object' };
  if (!isObject(repository) || !isText(repository.full_name)) return { problem: 'repository.full_name must be a string' };
  const owner = isObject(organization) ? organization.login : isObject(repository.owner) ? repository.owner.login : undefined;
  if (!isText(owner)) return { problem: 'organization.login (or repository.owner.login) must be a string' };

  if (!isId(job.id)) return { problem: 'workflow_job.id must be a positive integer' };
  if (!isId(job.run_id)) return { problem: 'workflow_job.run_id must be a positive integer' };
  if (job.run_attempt !== undefined && job.run_attempt !== null && !isId(job.run_attempt)) {
    return { problem: 'workflow_job.run_attempt must be a positive integer' };
  }
  const labels = job.labels;
  if (!Array.isArray(labels) || labels.length > MAX_LABELS || !labels.every((label) => isText(label))) {
    return { problem: `workflow_job.labels must be a list of at most ${MAX_LABELS} strings` };
  }
  if (job.runner_id !== null && job.runner_id !== undefined && !isId(job.runner_id)) {
    return { problem: 'workflow_job.runner_id must be a positive integer or null' };
  }
  for (const field of ['runner_name', 'runner_group_name', 'name'] as const) {
    const value = job[field];
    if (value !== null && value !== undefined && !isText(value)) return { problem: `workflow_job.${field} must be a string or null` };
  }
  const conclusion = job.conclusion;
  if (conclusion !== null && conclusion !== undefined && !isText(conclusion, MAX_CONCLUSION_LENGTH)) {
    return { problem: `workflow_job.conclusion must be a string of at most ${MAX_CONCLUSION_LENGTH} characters or null` };
  }

  return {
    event: {
      action: action as WorkflowJobAction,
      deliveryId,
      owner,
      repository: repository.full_name,
      jobId: job.id,
      jobName: (job.name as string | null | undefined) ?? null,
      runId: job.run_id,
      runAttempt: (job.run_attempt as number | null | undefined) ?? null,
      labels: labels as string[],
      runnerId: (job.runner_id as number | null | undefined) ?? null,
      runnerName: (job.runner_name as string | null | undefined) ?? null,
      runnerGroupName: (job.runner_group_name as string | null | undefined) ?? null,
      conclusion: (conclusion as string | null | undefined) ?? null,
    },
  };
}
