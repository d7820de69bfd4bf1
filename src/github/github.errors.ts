import { DomainError, ERROR_CODES } from '../common/domain-error.js';

/** What GitHub said, kept for mapping: its status, message and rate-limit wait. */
export interface GithubFailure {
  status?: number;
  githubMessage?: string;
  retryAfterSeconds?: number;
}

export class GithubError extends DomainError {
  constructor(
    code: ConstructorParameters<typeof DomainError>[0],
    message: string,
    readonly failure: GithubFailure,
  ) {
    super(code, message, {
      ...(failure.status !== undefined && { github_status: failure.status }),
      ...(failure.githubMessage && { github_message: failure.githubMessage }),
      ...(failure.retryAfterSeconds !== undefined && { retry_after_seconds: failure.retryAfterSeconds }),
    });
    this.name = 'GithubError';
  }
}

interface OctokitLikeError {
  name?: string;
  status?: number;
  message?: string;
  cause?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
  request?: { url?: string };
}

const INSTALLATION_TOKEN_URL = /\/app\/installations\/(\d+)\/access_tokens$/;

const DEFAULT_RATE_LIMIT_WAIT_SECONDS = 60;

/** True when the error (or what caused it) is our request timeout firing. */
function isTimeout(error: unknown): boolean {
  for (let current = error as OctokitLikeError | undefined, depth = 0; current && depth < 5; depth++) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return true;
    current = current.cause as OctokitLikeError | undefined;
  }
  return false;
}

function githubMessageOf(data: unknown): string | undefined {
  if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string') {
    return data.message.slice(0, 500);
  }
  return undefined;
}

/**
 * GitHub's rate-limit signals, as GitHub documents them: `retry-after` when present; else, when
 * `x-ratelimit-remaining` is 0, until `x-ratelimit-reset`; a 403 without either is a permission problem.
 */
function rateLimitWaitSeconds(status: number, headers: Record<string, string | undefined>, now: Date): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, Math.ceil(retryAfter));
  if (headers['x-ratelimit-remaining'] === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(reset)) return Math.max(0, Math.ceil(reset - now.getTime() / 1000));
    return DEFAULT_RATE_LIMIT_WAIT_SECONDS;
  }
  return status === 429 ? DEFAULT_RATE_LIMIT_WAIT_SECONDS : undefined;
}

/** Maps an Octokit failure of `operation` to a domain error. Never includes request bodies or tokens. */
export function toGithubError(error: unknown, operation: string, org: string, now = new Date()): GithubError {
  if (error instanceof GithubError) return error;
  const failure = error as OctokitLikeError;
  if (isTimeout(error)) {
    return new GithubError(ERROR_CODES.GITHUB_TIMEOUT, `GitHub did not answer ${operation} in time; try again`, {});
  }
  const status = failure.response ? failure.status : undefined;
  if (status === undefined) {
    return new GithubError(
      ERROR_CODES.GITHUB_UNAVAILABLE,
      `GitHub could not be reached for ${operation}: ${failure.message ?? 'network error'}`,
      {},
    );
  }
  const headers = failure.response?.headers ?? {};
  const githubMessage = githubMessageOf(failure.response?.data);
  const retryAfterSeconds = rateLimitWaitSeconds(status, headers, now);
  if (retryAfterSeconds !== undefined) {
    return new GithubError(
      ERROR_CODES.GITHUB_RATE_LIMITED,
      `GitHub's rate limit for this App is exhausted; retry in ${retryAfterSeconds} s`,
      { status, githubMessage, retryAfterSeconds },
    );
  }
  if (status === 401) {
    return new GithubError(
      ERROR_CODES.GITHUB_PERMISSION_DENIED,
      'GitHub rejected the App credentials: check GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY_PATH',
      { status, githubMessage },
    );
  }
  const installation = INSTALLATION_TOKEN_URL.exec(failure.request?.url ?? '')?.[1];
  if (installation !== undefined && status === 404) {
    return new GithubError(
      ERROR_CODES.GITHUB_PERMISSION_DENIED,
      `GitHub knows no installation ${installation} of this App: check GITHUB_APP_INSTALLATION_ID ` +
        '(the App\'s installation on the org, from the org\'s Settings > GitHub Apps)',
      { status, githubMessage },
    );
  }
  if (status === 403 || status === 404) {
    // GitHub answers 404 rather than 403 when the App may not see the org's runners.
    return new GithubError(
      ERROR_CODES.GITHUB_PERMISSION_DENIED,
      `GitHub refused ${operation} for org "${org}": the App must be installed on the org with the ` +
        `"Self-hosted runners" organization permission set to Read & Write`,
      { status, githubMessage },
    );
  }
  if (status === 409) {
    return new GithubError(ERROR_CODES.GITHUB_NAME_TAKEN, githubMessage ?? 'A runner with that name already exists', {
      status,
      githubMessage,
    });
  }
  if (status >= 500) {
    return new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, `GitHub failed ${operation} (HTTP ${status}); try again`, {
      status,
      githubMessage,
    });
  }
  return new GithubError(
    ERROR_CODES.GITHUB_REJECTED,
    `GitHub rejected ${operation} (HTTP ${status})${githubMessage ? `: ${githubMessage}` : ''}`,
    { status, githubMessage },
  );
}
