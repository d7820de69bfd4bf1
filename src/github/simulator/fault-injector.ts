import { STATUS_CODES } from 'node:http';
import { DOCS, DOCS_RATE_LIMIT, errorBody, RATE_LIMIT, type SimResponse } from './simulator-http.js';
import { isRecord, nowSeconds, pathMatches } from './simulator.util.js';

/** Faults injected into the REST API: which requests they hit, what they answer, and delays stop() can cut short. */

export interface SimulatorFault {
  method?: string;
  /** Matched against the request path without its query string; a string must match exactly. */
  path?: string | RegExp;
  /** Query parameters the request must carry with exactly these values (e.g. `{ page: '2' }`). */
  query?: Record<string, string>;
  status?: number;
  body?: unknown;
  delayMs?: number;
  /**
   * Answer with a rate limit. `'secondary'`: as GitHub's secondary limit does, 403 (or `status`, e.g.
   * 429) saying so, with `retry-after` only when `retryAfterSeconds` is given and the window's real
   * remaining count. `true`: 403 with both signals at once (remaining 0 and reset, and retry-after).
   * GitHub's primary limit, which refuses every request until its reset, is `setRateLimit` instead.
   */
  rateLimit?: boolean | 'secondary';
  retryAfterSeconds?: number;
  /** How many matching requests the fault applies to; unlimited when absent. */
  times?: number;
  /** Run the real handler first (its side effects happen), then delay and/or replace the answer. */
  afterHandling?: boolean;
}

interface ActiveFault {
  fault: SimulatorFault;
  remaining: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: (completed: boolean) => void;
}

const DEFAULT_RETRY_AFTER_SECONDS = 60;
const DOCS_SECONDARY_RATE_LIMIT = `${DOCS_RATE_LIMIT}#about-secondary-rate-limits`;
const SECONDARY_RATE_LIMIT_MESSAGE = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';

export class FaultInjector {
  private faults: ActiveFault[] = [];
  private readonly pendingDelays = new Set<PendingDelay>();

  /** The installation ID, which GitHub names in its rate-limit message. */
  constructor(private readonly installationId: number) {}

  /** How many faults are still active. */
  get count(): number {
    return this.faults.length;
  }

  inject(fault: SimulatorFault): void {
    this.faults.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault matching the request, counted as used (and dropped when used up). */
  take(method: string, path: string, query: Record<string, string>): SimulatorFault | undefined {
    const index = this.faults.findIndex(
      ({ fault }) =>
        (fault.method === undefined || fault.method.toUpperCase() === method) &&
        (fault.path === undefined || pathMatches(fault.path, path)) &&
        Object.entries(fault.query ?? {}).every(([key, value]) => query[key] === value),
    );
    if (index === -1) return undefined;
    const active = this.faults[index];
    active.remaining -= 1;
    if (active.remaining <= 0) this.faults.splice(index, 1);
    return active.fault;
  }

  /**
   * The answer to a request under `fault` (if any): the fault's delay and answer come before the real
   * handler, or after it with `afterHandling`. Undefined when stop() cut a delay short: send nothing.
   */
  async answer(fault: SimulatorFault | undefined, handle: () => SimResponse): Promise<SimResponse | undefined> {
    let response: SimResponse | undefined;
    if (fault && !fault.afterHandling) {
      if (fault.delayMs && !(await this.delay(fault.delayMs))) return undefined;
      response = this.faultResponse(fault);
    }
    if (!response) {
      response = handle();
      if (fault?.afterHandling) {
        if (fault.delayMs && !(await this.delay(fault.delayMs))) return undefined;
        response = this.faultResponse(fault) ?? response;
      }
    }
    return response;
  }

  /** Ends every pending delay at once; their requests get no answer. */
  cancelDelays(): void {
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pendingDelays.clear();
  }

  /** The answer a fault imposes, or undefined when it only delays. */
  private faultResponse(fault: SimulatorFault): SimResponse | undefined {
    if (fault.rateLimit === 'secondary') {
      const status = fault.status ?? 403;
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      return { status, headers, body: fault.body ?? errorBody(status, SECONDARY_RATE_LIMIT_MESSAGE, DOCS_SECONDARY_RATE_LIMIT) };
    }
    if (fault.rateLimit) {
      const status = fault.status ?? 403;
      const retryAfter = fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      return {
        status,
        headers: {
          'x-ratelimit-limit': String(RATE_LIMIT),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': String(RATE_LIMIT),
          'x-ratelimit-reset': String(nowSeconds() + retryAfter),
          'retry-after': String(retryAfter),
        },
        body:
          fault.body ??
          errorBody(status, `API rate limit exceeded for installation ID ${this.installationId}.`, DOCS_RATE_LIMIT),
      };
    }
    if (fault.status === undefined) return undefined;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    return {
      status: fault.status,
      headers,
      body: fault.body ?? (fault.status >= 400 ? errorBody(fault.status, STATUS_CODES[fault.status] ?? 'Error', DOCS) : undefined),
    };
  }

  /** Resolves true when the delay ran out, false when stop() cancelled it. */
  private delay(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const pending: PendingDelay = {
        timer: setTimeout(() => {
          this.pendingDelays.delete(pending);
          resolve(true);
        }, ms),
        resolve,
      };
      this.pendingDelays.add(pending);
    });
  }
}

/** A fault from the control API's JSON, or the message saying why it is not one. */
export function parseFault(input: Record<string, unknown>): SimulatorFault | string {
  const fault: SimulatorFault = {};
  if (input.method !== undefined) {
    if (typeof input.method !== 'string') return 'method must be a string';
    fault.method = input.method;
  }
  if (input.path !== undefined) {
    if (typeof input.path !== 'string') return 'path must be a string';
    fault.path = input.path;
  }
  // Over HTTP a RegExp cannot travel as JSON, so it comes as its source text.
  if (input.pathRegex !== undefined) {
    if (typeof input.pathRegex !== 'string') return 'pathRegex must be a string';
    try {
      fault.path = new RegExp(input.pathRegex);
    } catch {
      return 'pathRegex is not a valid regular expression';
    }
  }
  for (const key of ['status', 'delayMs', 'retryAfterSeconds', 'times'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `${key} must be a non-negative integer`;
    fault[key] = value;
  }
  if (input.rateLimit !== undefined) {
    if (typeof input.rateLimit !== 'boolean' && input.rateLimit !== 'secondary') return 'rateLimit must be a boolean or "secondary"';
    fault.rateLimit = input.rateLimit;
  }
  for (const key of ['afterHandling'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return `${key} must be a boolean`;
    fault[key] = value;
  }
  if (input.query !== undefined) {
    const query = input.query;
    if (!isRecord(query) || !Object.values(query).every((value) => typeof value === 'string')) {
      return 'query must be an object of strings';
    }
    fault.query = query as Record<string, string>;
  }
  if (input.body !== undefined) fault.body = input.body;
  return fault;
}
