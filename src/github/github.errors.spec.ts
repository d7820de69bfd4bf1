import { ERROR_CODES } from '../common/domain-error.js';
import { toGithubError } from './github.errors.js';

/** The shape Octokit's RequestError has: a status and the response GitHub sent. */
function githubAnswer(status: number, headers: Record<string, string> = {}, data: unknown = {}) {
  return Object.assign(new Error('HttpError'), { name: 'HttpError', status, response: { status, headers, data } });
}

const NOW = new Date('2026-11-25T12:00:00Z');
const map = (error: unknown) => toGithubError(error, 'generate-jitconfig', 'my-org', NOW);

describe('toGithubError', () => {
  it('keeps GitHub\'s retry-after on a rate limit', () => {
    const error = map(githubAnswer(403, { 'retry-after': '30' }, { message: 'You have exceeded a secondary rate limit' }));
    expect(error.code).toBe(ERROR_CODES.GITHUB_RATE_LIMITED);
    expect(error.failure.retryAfterSeconds).toBe(30);
    expect(error.details).toMatchObject({ retry_after_seconds: 30, github_status: 403 });
  });

  it('waits until x-ratelimit-reset when the primary limit is exhausted', () => {
    const reset = String(NOW.getTime() / 1000 + 600);
    const error = map(githubAnswer(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }));
    expect(error.code).toBe(ERROR_CODES.GITHUB_RATE_LIMITED);
    expect(error.failure.retryAfterSeconds).toBe(600);
  });

  it('waits a minute on a 429 without any hint', () => {
    expect(map(githubAnswer(429)).failure.retryAfterSeconds).toBe(60);
  });

  it('waits a minute on a 403 that says it is a secondary limit but carries no retry-after', () => {
    const error = map(
      githubAnswer(403, { 'x-ratelimit-remaining': '4321' }, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }),
    );
    expect(error.code).toBe(ERROR_CODES.GITHUB_RATE_LIMITED);
    expect(error.failure).toMatchObject({ retryAfterSeconds: 60, remaining: 4321 });
  });

  it('reads a 403 without rate-limit signs as a missing permission: the operator is told which, the caller only that it is not theirs', () => {
    const error = map(githubAnswer(403, { 'x-ratelimit-remaining': '4999' }, { message: 'Resource not accessible by integration' }));
    expect(error.code).toBe(ERROR_CODES.GITHUB_PERMISSION_DENIED);
    expect(error.failure.operatorDetail).toMatch(/"my-org".*Self-hosted runners.*Read & Write.*Resource not accessible/);
    expect(error.message).toMatch(/an operator must fix the service's GitHub App setup/);
    expect(error.message).not.toContain('my-org');
    expect(error.details).not.toHaveProperty('github_message');
  });

  it('names the installation id to the operator only, when GitHub does not know the installation', () => {
    const unknownInstallation = Object.assign(githubAnswer(404), {
      request: { url: 'https://api.github.com/app/installations/9999/access_tokens' },
    });
    const error = map(unknownInstallation);
    expect(error.code).toBe(ERROR_CODES.GITHUB_PERMISSION_DENIED);
    expect(error.failure.operatorDetail).toMatch(/installation 9999.*GITHUB_APP_INSTALLATION_ID/);
    expect(error.message).not.toContain('9999');
    expect(JSON.stringify(error.details)).not.toContain('9999');
  });

  it('reads a 404 as the App not seeing the org', () => {
    expect(map(githubAnswer(404)).code).toBe(ERROR_CODES.GITHUB_PERMISSION_DENIED);
  });

  it('reads a 401 as bad App credentials, naming the settings to check to the operator', () => {
    const error = map(githubAnswer(401, {}, { message: 'A JSON web token could not be decoded' }));
    expect(error.code).toBe(ERROR_CODES.GITHUB_PERMISSION_DENIED);
    expect(error.failure.operatorDetail).toMatch(/GITHUB_APP_ID.*GITHUB_APP_PRIVATE_KEY_PATH/);
    expect(error.message).not.toMatch(/GITHUB_APP_|JSON web token/);
  });

  it('maps a 409 to a taken name with GitHub\'s message', () => {
    const error = map(githubAnswer(409, {}, { message: 'Already exists - A runner with the name x already exists.' }));
    expect(error.code).toBe(ERROR_CODES.GITHUB_NAME_TAKEN);
    expect(error.message).toContain('Already exists');
  });

  it('maps 5xx to GITHUB_UNAVAILABLE and 422 to GITHUB_REJECTED', () => {
    expect(map(githubAnswer(502)).code).toBe(ERROR_CODES.GITHUB_UNAVAILABLE);
    const rejected = map(githubAnswer(422, {}, { message: 'Validation Failed' }));
    expect(rejected.code).toBe(ERROR_CODES.GITHUB_REJECTED);
    expect(rejected.message).toContain('Validation Failed');
  });

  it('maps our timeout to GITHUB_TIMEOUT, also when Octokit wrapped it', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(map(timeout).code).toBe(ERROR_CODES.GITHUB_TIMEOUT);
    const wrapped = Object.assign(new Error('The operation was aborted due to timeout'), { status: 500, cause: timeout });
    expect(map(wrapped).code).toBe(ERROR_CODES.GITHUB_TIMEOUT);
  });

  it('maps a network failure (no response) to GITHUB_UNAVAILABLE, keeping the address for the operator only', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.3.7:443'), { status: 500 });
    const error = map(refused);
    expect(error.code).toBe(ERROR_CODES.GITHUB_UNAVAILABLE);
    expect(error.failure.operatorDetail).toContain('ECONNREFUSED 10.0.3.7:443');
    expect(error.message).not.toMatch(/ECONNREFUSED|10\.0\.3\.7/);
  });
});
