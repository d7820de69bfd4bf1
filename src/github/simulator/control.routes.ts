import { parseFault, type FaultInjector } from './fault-injector.js';
import type { Route } from './route-table.js';
import { runnerId } from './runner.routes.js';
import type { RunnerStore } from './runner.store.js';
import type { RateLimitSettings, SimResponse, SimulatorRequest } from './simulator-http.js';

/** The `/_simulator` control API: the in-process controls over HTTP, for a simulator run on its own. */

/** What a control handler may use: the JSON body as an object (anything else reads as `{}`). */
export interface ControlRequest {
  body: Record<string, unknown>;
}

/** The parts of the simulator the control API drives. */
export interface ControlTarget {
  store: RunnerStore;
  faults: FaultInjector;
  /** The log as it is, not a copy: it is serialized at once. */
  requestLog(): readonly SimulatorRequest[];
  reset(): void;
  revokeInstallationTokens(): void;
  setRateLimit(settings: RateLimitSettings): void;
}

/** What `GET /_simulator/` lists, so a person can find the controls. */
const CONTROL_ENDPOINTS = [
  'GET    /_simulator/runners                      the runners GitHub holds',
  'POST   /_simulator/runners                      {"count", "name_prefix"?, "status"?, "busy"?, "ephemeral"?, "labels"?}: add runners',
  'POST   /_simulator/runners/register             {"token", "name", "labels"?, "ephemeral"?, "runner_group"?}: what ./config.sh does with a registration token',
  'POST   /_simulator/runner-groups                {"name"}: create a runner group (ids count up from the default group, 1)',
  'POST   /_simulator/runners/{id}/status          {"status"?: "online"|"offline", "busy"?}: change a runner',
  'POST   /_simulator/runners/{id}/complete-job    an ephemeral runner finished its job (it disappears)',
  'POST   /_simulator/faults                       {"method"?, "path"? | "pathRegex"?, "query"?, "status"?, "body"?, "delayMs"?, "rateLimit"?, "retryAfterSeconds"?, "times"?, "afterHandling"?}',
  'DELETE /_simulator/faults                       clear faults',
  'GET    /_simulator/requests                     the requests the simulator answered',
  'POST   /_simulator/tokens/revoke                revoke every installation token',
  'POST   /_simulator/rate-limit                   {"limit"?, "remaining"?, "reset_in_seconds"?}: the primary rate limit; none left refuses every request until the reset',
  'POST   /_simulator/reset                        forget runners, faults and requests',
];

/** The control API's errors carry only a message: they are the simulator's, not GitHub's. */
export function controlError(status: number, message: string): SimResponse {
  return { status, body: { message } };
}

export function controlRoutes(target: ControlTarget): Route<ControlRequest>[] {
  const { store, faults } = target;
  return [
    {
      method: 'GET',
      path: '/_simulator',
      handle: () => ({ status: 200, body: { control_endpoints: CONTROL_ENDPOINTS } }),
    },
    {
      method: 'POST',
      path: '/_simulator/reset',
      handle: () => {
        target.reset();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/_simulator/requests',
      handle: () => ({ status: 200, body: { requests: target.requestLog() } }),
    },
    {
      method: 'POST',
      path: '/_simulator/faults',
      handle: ({ body }) => {
        const fault = parseFault(body);
        if (typeof fault === 'string') return controlError(400, fault);
        faults.inject(fault);
        return { status: 201, body: { faults: faults.count } };
      },
    },
    {
      method: 'DELETE',
      path: '/_simulator/faults',
      handle: () => {
        faults.clear();
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/_simulator/tokens/revoke',
      handle: () => {
        target.revokeInstallationTokens();
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/_simulator/rate-limit',
      handle: ({ body }) => {
        const settings = parseRateLimit(body);
        if (typeof settings === 'string') return controlError(400, settings);
        target.setRateLimit(settings);
        return { status: 204 };
      },
    },
    { method: 'GET', path: '/_simulator/runners', handle: () => ({ status: 200, body: { runners: store.list() } }) },
    { method: 'POST', path: '/_simulator/runners/register', handle: ({ body }) => registerRunner(store, body) },
    { method: 'POST', path: '/_simulator/runners', handle: ({ body }) => addRunners(store, body) },
    { method: 'POST', path: '/_simulator/runner-groups', handle: ({ body }) => addRunnerGroup(store, body) },
    {
      method: 'POST',
      path: '/_simulator/runners/{id}/status',
      handle: ({ params, body }) => setRunnerStatus(store, runnerId(params.id), body),
    },
    {
      method: 'POST',
      path: '/_simulator/runners/{id}/complete-job',
      handle: ({ params }) => completeJob(store, runnerId(params.id)),
    },
  ];
}

function registerRunner(store: RunnerStore, input: Record<string, unknown>): SimResponse {
  if (typeof input.token !== 'string' || typeof input.name !== 'string') {
    return controlError(400, 'token and name must be strings');
  }
  const labels = input.labels;
  if (labels !== undefined && !isStringArray(labels)) return controlError(400, 'labels must be an array of strings');
  try {
    const runner = store.register({
      token: input.token,
      name: input.name,
      labels,
      ephemeral: input.ephemeral === true,
      runnerGroup: typeof input.runner_group === 'string' ? input.runner_group : undefined,
    });
    return { status: 201, body: runner };
  } catch (error) {
    return controlError(422, (error as Error).message);
  }
}

function addRunnerGroup(store: RunnerStore, input: Record<string, unknown>): SimResponse {
  if (typeof input.name !== 'string' || input.name.trim() === '') return controlError(400, 'name must be a non-empty string');
  try {
    return { status: 201, body: store.addRunnerGroup(input.name) };
  } catch (error) {
    return controlError(409, (error as Error).message);
  }
}

function addRunners(store: RunnerStore, input: Record<string, unknown>): SimResponse {
  const count = input.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    return controlError(400, 'count must be a positive integer');
  }
  const status = input.status;
  if (status !== undefined && status !== 'online' && status !== 'offline') {
    return controlError(400, 'status must be "online" or "offline"');
  }
  const labels = input.labels;
  if (labels !== undefined && !isStringArray(labels)) return controlError(400, 'labels must be an array of strings');
  const runners = store.add(count, {
    namePrefix: typeof input.name_prefix === 'string' ? input.name_prefix : undefined,
    status,
    busy: typeof input.busy === 'boolean' ? input.busy : undefined,
    ephemeral: typeof input.ephemeral === 'boolean' ? input.ephemeral : undefined,
    labels,
  });
  return { status: 201, body: { runners } };
}

// The runner's existence is checked before the body, so an unknown runner is a 404 whatever the body says.
function setRunnerStatus(store: RunnerStore, id: number | undefined, input: Record<string, unknown>): SimResponse {
  if (id === undefined) return controlError(404, 'Not Found');
  if (!store.get(id)) return controlError(404, `No runner with id ${id}`);
  const status = input.status;
  if (status !== undefined && status !== 'online' && status !== 'offline') {
    return controlError(400, 'status must be "online" or "offline"');
  }
  if (input.busy !== undefined && typeof input.busy !== 'boolean') {
    return controlError(400, 'busy must be a boolean');
  }
  return { status: 200, body: store.setStatus(id, { status, busy: input.busy }) };
}

function completeJob(store: RunnerStore, id: number | undefined): SimResponse {
  if (id === undefined) return controlError(404, 'Not Found');
  if (!store.get(id)) return controlError(404, `No runner with id ${id}`);
  store.completeJob(id);
  return { status: 204 };
}

function parseRateLimit(input: Record<string, unknown>): RateLimitSettings | string {
  const settings: RateLimitSettings = {};
  const fields = { limit: 'limit', remaining: 'remaining', reset_in_seconds: 'resetInSeconds' } as const;
  for (const [name, key] of Object.entries(fields)) {
    const value = input[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return `${name} must be a non-negative integer`;
    settings[key] = value;
  }
  return settings;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
