/**
 * GitHub's own example webhook payloads (@octokit/webhooks-examples), changed only where a test
 * needs its own runner, run or organization, and deliveries signed with the test's secret.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}

const definitions: WebhookDefinition[] = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples'), 'utf8'),
) as WebhookDefinition[];

/** Every example of one event, as GitHub's docs show them. */
export function webhookExamples(event: string): Record<string, unknown>[] {
  const definition = definitions.find((candidate) => candidate.name === event);
  if (!definition) throw new Error(`@octokit/webhooks-examples has no ${event} examples`);
  return structuredClone(definition.examples);
}

export interface WorkflowJobChanges {
  runnerId?: number | null;
  runnerName?: string | null;
  runnerGroupName?: string | null;
  runId?: number;
  runAttempt?: number;
  jobId?: number;
  labels?: string[];
  conclusion?: string | null;
  repository?: string;
  /** The organization whose repository ran the job. */
  org?: string;
}

/**
 * GitHub's first example workflow_job payload with this action (an organization's repository), with
 * the changes asked for.
 */
export function workflowJobPayload(action: 'queued' | 'in_progress' | 'completed' | 'waiting', changes: WorkflowJobChanges = {}) {
  const payload = webhookExamples('workflow_job').find((example) => example.action === action);
  if (!payload) throw new Error(`no workflow_job example with action ${action}`);
  const job = payload.workflow_job as Record<string, unknown>;
  const repository = payload.repository as Record<string, unknown>;
  const set = (target: Record<string, unknown>, key: string, value: unknown) => {
    if (value !== undefined) target[key] = value;
  };
  set(job, 'runner_id', changes.runnerId);
  set(job, 'runner_name', changes.runnerName);
  set(job, 'runner_group_name', changes.runnerGroupName);
  set(job, 'run_id', changes.runId);
  set(job, 'run_attempt', changes.runAttempt);
  set(job, 'id', changes.jobId);
  set(job, 'labels', changes.labels);
  set(job, 'conclusion', changes.conclusion);
  set(repository, 'full_name', changes.repository);
  if (changes.org !== undefined) {
    payload.organization = { ...(payload.organization as object | undefined), login: changes.org };
  }
  return payload;
}

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** A delivery as GitHub sends it: the JSON body, its signature with `secret`, a fresh delivery id. */
export async function signedDelivery(
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<Delivery> {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '123456',
      'x-hub-signature-256': await sign(secret, body),
      'user-agent': 'GitHub-Hookshot/044aadd',
    },
  };
}
