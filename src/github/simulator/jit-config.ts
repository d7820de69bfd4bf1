import { randomBytes, randomUUID } from 'node:crypto';
import type { SimulatedRunner } from './runner.store.js';
import { BASE62, isRecord, randomString } from './simulator.util.js';

/** generate-jitconfig's request validation (GitHub's 422 messages) and the encoded JIT config it answers with. */

export interface JitRequest {
  name: string;
  runner_group_id: number;
  labels: string[];
  work_folder?: string;
}

const MAX_RUNNER_NAME_LENGTH = 64;
const MAX_LABELS = 100;

/** GitHub's validation messages for a generate-jitconfig body, or undefined when it is valid. */
export function validateJitRequest(body: unknown): string[] | undefined {
  if (!isRecord(body)) return ['Body must be a JSON object.'];
  const missing = ['name', 'runner_group_id', 'labels'].filter((field) => body[field] === undefined);
  if (missing.length > 0) {
    const names = missing.map((f) => `"${f}"`).join(', ');
    return [`${names} ${missing.length === 1 ? "wasn't" : "weren't"} supplied.`];
  }
  const errors: string[] = [];
  const { name, runner_group_id: groupId, labels, work_folder: workFolder } = body;
  if (typeof name !== 'string') {
    errors.push(`For 'properties/name', ${JSON.stringify(name)} is not a string.`);
  } else if (name.trim() === '') {
    errors.push("For 'properties/name', the name must not be blank.");
  } else if (name.length > MAX_RUNNER_NAME_LENGTH) {
    errors.push(`For 'properties/name', ${JSON.stringify(name)} is longer than ${MAX_RUNNER_NAME_LENGTH} characters.`);
  }
  if (typeof groupId !== 'number' || !Number.isInteger(groupId)) {
    errors.push(`For 'properties/runner_group_id', ${JSON.stringify(groupId)} is not an integer.`);
  }
  if (!Array.isArray(labels)) {
    errors.push(`For 'properties/labels', ${JSON.stringify(labels)} is not an array.`);
  } else if (labels.length < 1) {
    errors.push("For 'properties/labels', [] has fewer items than the minimum of 1.");
  } else if (labels.length > MAX_LABELS) {
    errors.push(`For 'properties/labels', ${labels.length} items are more than the maximum of ${MAX_LABELS}.`);
  } else if (!labels.every((label) => typeof label === 'string' && label.trim() !== '')) {
    errors.push("For 'items', every label must be a non-empty string.");
  }
  if (workFolder !== undefined && typeof workFolder !== 'string') {
    errors.push(`For 'properties/work_folder', ${JSON.stringify(workFolder)} is not a string.`);
  }
  return errors.length > 0 ? errors : undefined;
}

/** Base64 of a JSON map from runner file name to base64 file contents, like GitHub's. */
export function encodeJitConfig(
  runner: SimulatedRunner,
  workFolder: string,
  github: { url: string; org: string },
): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
  const poolUrl = `${github.url}/_services/pipelines/${randomString(BASE62, 24)}`;
  const files = {
    '.runner': b64({
      AgentId: String(runner.id),
      AgentName: runner.name,
      PoolId: String(runner.runner_group_id),
      PoolName: 'Default',
      ServerUrl: poolUrl,
      GitHubUrl: `${github.url}/${github.org}`,
      WorkFolder: workFolder,
      Ephemeral: 'true',
      UseV2Flow: true,
    }),
    '.credentials': b64({
      Scheme: 'OAuth',
      Data: {
        ClientId: randomUUID(),
        AuthorizationUrl: `${poolUrl}/_apis/oauth2/token/${randomUUID()}`,
        RequireFipsCryptography: 'True',
      },
    }),
    // Random bytes of an RSA 2048 key's sizes: realistic-looking without generating a key per call.
    '.credentials_rsaparams': b64({
      d: randomBytes(256).toString('base64'),
      dp: randomBytes(128).toString('base64'),
      dq: randomBytes(128).toString('base64'),
      exponent: 'AQAB',
      inverseQ: randomBytes(128).toString('base64'),
      modulus: randomBytes(256).toString('base64'),
      p: randomBytes(128).toString('base64'),
      q: randomBytes(128).toString('base64'),
    }),
  };
  return Buffer.from(JSON.stringify(files)).toString('base64');
}
