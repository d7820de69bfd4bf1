import { DomainError, ERROR_CODES } from '../common/domain-error.js';

/** What GitHub said, kept for mapping: its status, message and rate-limit wait. */
export interface GithubFailure {
  status?: number;
  githubMessage?: string;
  retryAfterSeconds?: number;
  /** A rate limit's x-ratelimit-remaining and x-ratelimit-reset (epoch seconds), when GitHub sent them. */
  remaining?: number;
  resetEpochSeconds?: number;
  /**
   * For the operator, never for the caller: the network error, the installation id, the settings to
   * check. It goes to the log (with the request id) and to the CLI's error line.
   */
  operatorDetail?: string;
}

/** GitHub's own message helps a caller only where it is about the request: a name, a label. */
const CALLER_FIXABLE: readonly string[] = [ERROR_CODES.GITHUB_REJECTED, ERROR_CODES.GITHUB_NAME_TAKEN];

export class GithubError extends DomainError {
  constructor(
    code: ConstructorParameters<typeof DomainError>[0],
    message: string,
    readonly failure: GithubFailure,
  ) {
    super(code, message, {
      ...(failure.status !== undefined && { github_status: failure.status }),
      ...(failure.githubMessage && CALLER_FIXABLE.includes(code) && { github_message: failure.githubMessage }),
      ...(failure.retryAfterSeconds !== undefined && { retry_after_seconds: failure.retryAfterSeconds }),
    });
    this.name = 'GithubError';
  }
}

/** What the service's own setup needs fixing, said to a caller who cannot fix it. */
const ASK_AN_OPERATOR = 'an operator must fix the service\'s GitHub App setup (the service log has the details, under this request id)';

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

/** GitHub's message on a secondary limit that comes without retry-after ("You have exceeded a secondary rate limit"). */
const SECONDARY_LIMIT_MESSAGE = /secondary rate limit/i;

/**
 * GitHub's rate-limit signals, as GitHub documents them: `retry-after` when present; else, when
 * `x-ratelimit-remaining` is 0, until `x-ratelimit-reset`; else, for a 429 or a 403 that says it is
 * a secondary limit, a minute. A 403 without any of these is a permission problem.
 */
function rateLimitWaitSeconds(
  status: number,
  headers: Record<string, string | undefined>,
  githubMessage: string | undefined,
  now: Date,
): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, Math.ceil(retryAfter));
  if (headers['x-ratelimit-remaining'] === '0') {
    const reset = Number(headers['x-ratelimit-reset']);
    if (Number.isFinite(reset)) return Math.max(0, Math.ceil(reset - now.getTime() / 1000));
    return DEFAULT_RATE_LIMIT_WAIT_SECONDS;
  }
  if (status === 429 || SECONDARY_LIMIT_MESSAGE.test(githubMessage ?? '')) return DEFAULT_RATE_LIMIT_WAIT_SECONDS;
  return undefined;
}

function integerHeader(headers: Record<string, string | undefined>, name: string): number | undefined {
  const value = headers[name];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** What went wrong on the network, for the log: Octokit's message and each cause under it (fetch's "fetch failed" hides ECONNREFUSED). */
function causeChain(error: unknown): string {
  const messages: string[] = [];
  let current = error as OctokitLikeError | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (typeof current.message === 'string' && current.message !== '' && !messages.includes(current.message)) {
      messages.push(current.message);
    }
    current = current.cause as OctokitLikeError | undefined;
  }
  return messages.length > 0 ? messages.join(': ') : 'network error';
}

function saidBy(githubMessage: string | undefined): string {
  return githubMessage ? ` (GitHub said: ${githubMessage})` : '';
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
    return new GithubError(ERROR_CODES.GITHUB_UNAVAILABLE, `GitHub could not be reached for ${operation}; try again later`, {
      operatorDetail: causeChain(error),
    });
  }
  const headers = failure.response?.headers ?? {};
  const githubMessage = githubMessageOf(failure.response?.data);
  const retryAfterSeconds = rateLimitWaitSeconds(status, headers, githubMessage, now);
  if (retryAfterSeconds !== undefined) {
    return new GithubError(
      ERROR_CODES.GITHUB_RATE_LIMITED,
      `GitHub's rate limit for this App is exhausted; retry in ${retryAfterSeconds} s`,
      {
        status,
        githubMessage,
        retryAfterSeconds,
        remaining: integerHeader(headers, 'x-ratelimit-remaining'),
        resetEpochSeconds: integerHeader(headers, 'x-ratelimit-reset'),
      },
    );
  }
  if (status === 401) {
    return new GithubError(ERROR_CODES.GITHUB_PERMISSION_DENIED, `GitHub refused this service's App credentials: ${ASK_AN_OPERATOR}`, {
      status,
      githubMessage,
      operatorDetail: `check GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY_PATH${saidBy(githubMessage)}`,
    });
  }
  const installation = INSTALLATION_TOKEN_URL.exec(failure.request?.url ?? '')?.[1];
  if (installation !== undefined && status === 404) {
    return new GithubError(ERROR_CODES.GITHUB_PERMISSION_DENIED, `GitHub does not know this service's App installation: ${ASK_AN_OPERATOR}`, {
      status,
      githubMessage,
      operatorDetail:
        `GitHub knows no installation ${installation} of this App: check GITHUB_APP_INSTALLATION_ID ` +
        "(the App's installation on the org, from the org's Settings > GitHub Apps)",
    });
  }
  if (status === 403 || status === 404) {
    // GitHub answers 404 rather than 403 when the App may not see the org's runners.
    return new GithubError(ERROR_CODES.GITHUB_PERMISSION_DENIED, `GitHub refused ${operation} to this service's App: ${ASK_AN_OPERATOR}`, {
      status,
      githubMessage,
      operatorDetail:
        `the App must be installed on org "${org}" with the "Self-hosted runners" organization permission set to ` +
        `Read & Write${saidBy(githubMessage)}`,
    });
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
