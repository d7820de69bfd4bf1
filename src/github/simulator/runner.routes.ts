import { encodeJitConfig, validateJitRequest, type JitRequest } from './jit-config.js';
import type { OrgRoute } from './route-table.js';
import { type RunnerStore, type SimulatedRunner, type SimulatedRunnerGroup } from './runner.store.js';
import { errorBody, notFound, type SimResponse } from './simulator-http.js';

/** GitHub's REST endpoints for an org's self-hosted runners, answered from the runner store. */

const MAX_RUNNERS_PER_GROUP = 10_000;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
// The registration-token example in GitHub's description carries a Pacific offset, not Z.
const REGISTRATION_TOKEN_UTC_OFFSET_MINUTES = -8 * 60;

const DOCS_RUNNERS = 'https://docs.github.com/rest/actions/self-hosted-runners';
const DOCS_REGISTRATION_TOKEN = `${DOCS_RUNNERS}#create-a-registration-token-for-an-organization`;
const DOCS_JIT = `${DOCS_RUNNERS}#create-configuration-for-a-just-in-time-runner-for-an-organization`;
const DOCS_LIST_RUNNERS = `${DOCS_RUNNERS}#list-self-hosted-runners-for-an-organization`;
const DOCS_GET_RUNNER = `${DOCS_RUNNERS}#get-a-self-hosted-runner-for-an-organization`;
const DOCS_DELETE_RUNNER = `${DOCS_RUNNERS}#delete-a-self-hosted-runner-from-an-organization`;
const DOCS_GROUPS = 'https://docs.github.com/rest/actions/self-hosted-runner-groups';
const DOCS_RUNNER_GROUPS = `${DOCS_GROUPS}#list-self-hosted-runner-groups-for-an-organization`;
const DOCS_RUNNER_GROUP = `${DOCS_GROUPS}#get-a-self-hosted-runner-group-for-an-organization`;

const ORG_ACTIONS = '/orgs/{org}/actions';

export class RunnerRoutes {
  constructor(
    private readonly store: RunnerStore,
    /** The simulator's base URL and org, for the URLs answers carry. */
    private readonly github: { url: string; org: string },
  ) {}

  /** The first match wins, so the literal runners/… paths stay before runners/{runner_id}. */
  routes(): OrgRoute[] {
    return [
      {
        method: 'POST',
        path: `${ORG_ACTIONS}/runners/registration-token`,
        docs: DOCS_REGISTRATION_TOKEN,
        handle: () => this.createRegistrationToken(),
      },
      {
        method: 'POST',
        path: `${ORG_ACTIONS}/runners/generate-jitconfig`,
        docs: DOCS_JIT,
        handle: ({ body }) => this.generateJitConfig(body),
      },
      {
        method: 'GET',
        path: `${ORG_ACTIONS}/runners`,
        docs: DOCS_LIST_RUNNERS,
        handle: ({ query }) => this.listRunners(query),
      },
      {
        method: 'GET',
        path: `${ORG_ACTIONS}/runner-groups`,
        docs: DOCS_RUNNER_GROUPS,
        handle: () => this.listRunnerGroups(),
      },
      {
        method: 'GET',
        path: `${ORG_ACTIONS}/runner-groups/{runner_group_id}`,
        docs: DOCS_RUNNER_GROUP,
        handle: ({ params }) => this.getRunnerGroup(runnerId(params.runner_group_id)),
      },
      {
        method: 'GET',
        path: `${ORG_ACTIONS}/runners/{runner_id}`,
        docs: DOCS_GET_RUNNER,
        handle: ({ params }) => this.getRunner(runnerId(params.runner_id)),
      },
      {
        method: 'DELETE',
        path: `${ORG_ACTIONS}/runners/{runner_id}`,
        docs: DOCS_DELETE_RUNNER,
        handle: ({ params }) => this.deleteRunner(runnerId(params.runner_id)),
      },
    ];
  }

  private createRegistrationToken(): SimResponse {
    const { token, expiresAt } = this.store.issueRegistrationToken();
    return {
      status: 201,
      body: {
        token,
        expires_at: formatWithOffset(expiresAt, REGISTRATION_TOKEN_UTC_OFFSET_MINUTES),
      },
    };
  }

  private generateJitConfig(body: unknown): SimResponse {
    const invalid = validateJitRequest(body);
    if (invalid) {
      return { status: 422, body: { ...errorBody(422, `Invalid request.\n\n${invalid.join('\n')}`, DOCS_JIT), errors: invalid } };
    }
    const request = body as JitRequest;
    if (!this.store.runnerGroup(request.runner_group_id)) return notFound(DOCS_JIT);
    if (this.store.findByName(request.name)) {
      return {
        status: 409,
        body: errorBody(409, `Already exists - A runner with the name ${request.name} already exists.`, DOCS_JIT),
      };
    }
    if (this.store.size >= MAX_RUNNERS_PER_GROUP) {
      return {
        status: 422,
        body: errorBody(
          422,
          `Runner group "Default" has reached the maximum of ${MAX_RUNNERS_PER_GROUP} runners.`,
          DOCS_JIT,
        ),
      };
    }

    const runner = this.store.addJitRunner(request);
    return {
      status: 201,
      body: {
        runner: structuredClone(runner),
        encoded_jit_config: encodeJitConfig(runner, request.work_folder ?? '_work', this.github),
      },
    };
  }

  private listRunners(query: Record<string, string>): SimResponse {
    const perPage = Math.min(parsePositiveInt(query.per_page) ?? DEFAULT_PER_PAGE, MAX_PER_PAGE);
    const page = parsePositiveInt(query.page) ?? 1;
    let matching: SimulatedRunner[];
    // An empty ?name= filters nothing, as GitHub ignores empty query parameters.
    const name = query.name || undefined;
    if (name !== undefined) {
      const runner = this.store.findByName(name);
      matching = runner ? [runner] : [];
    } else {
      matching = this.store.list();
    }
    const start = (page - 1) * perPage;
    const headers: Record<string, string> = {};
    const link = this.buildLinkHeader(matching.length, page, perPage, name);
    if (link) headers.link = link;
    return {
      status: 200,
      headers,
      body: { total_count: matching.length, runners: matching.slice(start, start + perPage) },
    };
  }

  private buildLinkHeader(total: number, page: number, perPage: number, name: string | undefined): string | undefined {
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    if (lastPage === 1 && page === 1) return undefined;
    const pageUrl = (n: number): string => {
      const params = new URLSearchParams();
      if (name !== undefined) params.set('name', name);
      params.set('per_page', String(perPage));
      params.set('page', String(n));
      return `<${this.github.url}/orgs/${encodeURIComponent(this.github.org)}/actions/runners?${params.toString()}>`;
    };
    // GitHub's order: prev, next, last, first.
    const links: string[] = [];
    if (page > 1) links.push(`${pageUrl(Math.min(page - 1, lastPage))}; rel="prev"`);
    if (page < lastPage) {
      links.push(`${pageUrl(page + 1)}; rel="next"`);
      links.push(`${pageUrl(lastPage)}; rel="last"`);
    }
    if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
    return links.join(', ');
  }

  private getRunner(id: number | undefined): SimResponse {
    const runner = id === undefined ? undefined : this.store.get(id);
    if (!runner) return notFound(DOCS_GET_RUNNER);
    return { status: 200, body: structuredClone(runner) };
  }

  private deleteRunner(id: number | undefined): SimResponse {
    const runner = id === undefined ? undefined : this.store.get(id);
    if (!runner) return notFound(DOCS_DELETE_RUNNER);
    if (runner.busy) {
      return {
        status: 422,
        body: errorBody(422, `Bad request - Runner "${runner.name}" is still running a job`, DOCS_DELETE_RUNNER),
      };
    }
    this.store.remove(runner);
    return { status: 204 };
  }

  private listRunnerGroups(): SimResponse {
    const groups = this.store.runnerGroups();
    return { status: 200, body: { total_count: groups.length, runner_groups: groups.map((group) => this.groupBody(group)) } };
  }

  private getRunnerGroup(id: number | undefined): SimResponse {
    const group = id === undefined ? undefined : this.store.runnerGroup(id);
    return group ? { status: 200, body: this.groupBody(group) } : notFound(DOCS_RUNNER_GROUP);
  }

  private groupBody(group: SimulatedRunnerGroup): Record<string, unknown> {
    const org = encodeURIComponent(this.github.org);
    return {
      id: group.id,
      name: group.name,
      visibility: 'all',
      default: group.default,
      runners_url: `${this.github.url}/orgs/${org}/actions/runner_groups/${group.id}/runners`,
      inherited: false,
      allows_public_repositories: false,
      restricted_to_workflows: false,
      selected_workflows: [],
      workflow_restrictions_read_only: false,
    };
  }
}

/** A runner id in a path is plain digits; any other segment names no runner. */
export function runnerId(segment: string): number | undefined {
  return /^\d+$/.test(segment) ? Number(segment) : undefined;
}

function parsePositiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

/** ISO 8601 with milliseconds and an explicit offset, e.g. 2020-01-22T12:13:35.123-08:00. */
function formatWithOffset(date: Date, offsetMinutes: number): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hours = String(Math.floor(abs / 60)).padStart(2, '0');
  const minutes = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hours}:${minutes}`;
}
