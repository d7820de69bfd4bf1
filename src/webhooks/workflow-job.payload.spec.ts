import { webhookExamples, workflowJobPayload } from '../../test/support/webhooks.js';
import { readWorkflowJob } from './workflow-job.payload.js';

describe('readWorkflowJob', () => {
  it("reads every one of GitHub's example workflow_job payloads", () => {
    const examples = webhookExamples('workflow_job');
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const example of examples) {
      const reading = readWorkflowJob(example, 'delivery-1');
      expect(reading).toHaveProperty('event');
    }
  });

  it('takes the job, its run, the runner and the organization from an in_progress event', () => {
    const reading = readWorkflowJob(workflowJobPayload('in_progress'), 'delivery-1');
    expect(reading).toEqual({
      event: {
        action: 'in_progress',
        deliveryId: 'delivery-1',
        owner: 'octo-org',
        repository: 'octo-org/example-workflow',
        jobId: 2832853555,
        jobName: 'Test workflow',
        runId: 940463255,
        // This example predates run_attempt.
        runAttempt: null,
        labels: ['gpu', 'db-app', 'dc-03'],
        runnerId: 1,
        runnerName: 'my runner',
        runnerGroupName: 'my runner group',
        conclusion: null,
      },
    });
  });

  it("takes the conclusion and run attempt of a completed event, and a user's repository's owner", () => {
    const reading = readWorkflowJob(workflowJobPayload('completed'), 'delivery-2');
    expect(reading).toMatchObject({ event: { action: 'completed', conclusion: 'failure', runAttempt: 1, owner: 'Octocoders' } });
    const example = webhookExamples('workflow_job').find(
      (candidate) => candidate.organization === undefined && (candidate.repository as { full_name: string }).full_name.startsWith('wolfy1339/'),
    );
    expect(readWorkflowJob(example, 'delivery-3')).toMatchObject({ event: { owner: 'wolfy1339' } });
  });

  it('leaves actions it does not know to the caller, by name', () => {
    expect(readWorkflowJob({ ...workflowJobPayload('queued'), action: 'rerequested' }, 'd')).toEqual({ ignored: 'rerequested' });
  });

  it.each([
    ['a job id that is not a number', (job: Record<string, unknown>) => (job.id = '2832853555'), 'workflow_job.id'],
    ['a run id that is not an integer', (job: Record<string, unknown>) => (job.run_id = 1.5), 'workflow_job.run_id'],
    ['labels that are not strings', (job: Record<string, unknown>) => (job.labels = [1, 2]), 'workflow_job.labels'],
    ['a runner id below 1', (job: Record<string, unknown>) => (job.runner_id = -1), 'workflow_job.runner_id'],
    ['a conclusion too long for its column', (job: Record<string, unknown>) => (job.conclusion = 'x'.repeat(33)), 'workflow_job.conclusion'],
  ])('refuses %s, naming the field', (_case, spoil, field) => {
    const payload = workflowJobPayload('completed');
    spoil(payload.workflow_job as Record<string, unknown>);
    const reading = readWorkflowJob(payload, 'd');
    expect(reading).toEqual({ problem: expect.stringContaining(field) });
  });

  it('refuses a body that is not an object', () => {
    expect(readWorkflowJob([1, 2], 'd')).toEqual({ problem: 'the body is not a JSON object' });
  });
});
