import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomInt,
  randomUUID,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GithubConfig } from '../../config/app-config.js';

/**
 * An in-memory stand-in for the slice of GitHub's REST API the service uses (App installation
 * tokens and org-scope self-hosted runners), with GitHub's shapes, status codes and headers.
 * It is a plain node:http server so tests exercise the real HTTP client, retries and pagination.
 */

export type RunnerStatus = 'online' | 'offline';

export interface SimulatedRunnerLabel {
  id: number;
  name: string;
  type: 'read-only' | 'custom';
}

export interface SimulatedRunner {
  id: number;
  name: string;
  os: string;
  status: RunnerStatus;
  busy: boolean;
  ephemeral: boolean;
  runner_group_id: number;
  labels: SimulatedRunnerLabel[];
  version?: string;
}

export interface GithubSimulatorOptions {
  port?: number;
  host?: string;
  org?: string;
  appId?: string;
  installationId?: number;
  tokenLifetimeSeconds?: number;
}

export interface SimulatorFault {
  method?: string;
  /** Matched against the request path without its query string; a string must match exactly. */
  path?: string | RegExp;
  /** Query parameters the request must carry with exactly these values (e.g. `{ page: '2' }`). */
  query?: Record<string, string>;
  status?: number;
  body?: unknown;
  delayMs?: number;
  /** Answer like GitHub's primary rate limit: 403, x-ratelimit-remaining 0, reset and retry-after. */
  rateLimit?: boolean;
  retryAfterSeconds?: number;
  /** How many matching requests the fault applies to; unlimited when absent. */
  times?: number;
  /** Run the real handler first (its side effects happen), then delay and/or replace the answer. */
  afterHandling?: boolean;
}

export interface SimulatorRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  body?: unknown;
}

/** What `./config.sh --url … --token … --name … --labels … [--ephemeral]` sends GitHub. */
export interface RegisterRunnerOptions {
  token: string;
  name: string;
  labels?: string[];
  ephemeral?: boolean;
}

export interface AddRunnersOptions {
  namePrefix?: string;
  /** 'unknown' for a runner that never connected (a JIT runner not started yet); default linux. */
  os?: string;
  status?: RunnerStatus;
  busy?: boolean;
  ephemeral?: boolean;
  labels?: string[];
}

interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface ActiveFault {
  fault: SimulatorFault;
  remaining: number;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: (completed: boolean) => void;
}

const DEFAULT_ORG = 'sim-org';
const GHES_API_PREFIX = '/api/v3';
const DEFAULT_APP_ID = '424242';
const DEFAULT_INSTALLATION_ID = 4242;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const REGISTRATION_TOKEN_LIFETIME_SECONDS = 3600;
const DEFAULT_RUNNER_GROUP_ID = 1;
const MAX_RUNNERS_PER_GROUP = 10_000;
const MAX_RUNNER_NAME_LENGTH = 64;
const MAX_LABELS = 100;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
const RATE_LIMIT = 5000;
const RATE_LIMIT_WINDOW_SECONDS = 3600;
const DEFAULT_RETRY_AFTER_SECONDS = 60;
// GitHub allows some clock drift between the App's host and its own.
const JWT_CLOCK_SKEW_SECONDS = 60;
const JWT_MAX_LIFETIME_SECONDS = 600;
const MAX_BODY_BYTES = 1024 * 1024;
// The registration-token example in GitHub's description carries a Pacific offset, not Z.
const REGISTRATION_TOKEN_UTC_OFFSET_MINUTES = -8 * 60;
const RUNNER_VERSION = '2.330.0';
const GRANTED_PERMISSIONS: Record<string, string> = { organization_self_hosted_runners: 'write' };
// GitHub shows these as read-only labels when a JIT request names them (see the description's example).
const DEFAULT_LABEL_NAMES = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);

const DOCS = 'https://docs.github.com/rest';
const DOCS_ACCESS_TOKEN =
  'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app';
const DOCS_RUNNERS = 'https://docs.github.com/rest/actions/self-hosted-runners';
const DOCS_REGISTRATION_TOKEN = `${DOCS_RUNNERS}#create-a-registration-token-for-an-organization`;
const DOCS_JIT = `${DOCS_RUNNERS}#create-configuration-for-a-just-in-time-runner-for-an-organization`;
const DOCS_LIST_RUNNERS = `${DOCS_RUNNERS}#list-self-hosted-runners-for-an-organization`;
const DOCS_GET_RUNNER = `${DOCS_RUNNERS}#get-a-self-hosted-runner-for-an-organization`;
const DOCS_DELETE_RUNNER = `${DOCS_RUNNERS}#delete-a-self-hosted-runner-from-an-organization`;
const DOCS_RUNNER_GROUPS =
  'https://docs.github.com/rest/actions/self-hosted-runner-groups#list-self-hosted-runner-groups-for-an-organization';
const DOCS_RATE_LIMIT = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

const JWT_UNDECODABLE = 'A JSON web token could not be decoded';
const JWT_EXP_INVALID =
  "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
const JWT_EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future";
const JWT_IAT_INVALID =
  "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued";

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** What `GET /_simulator/` lists, so a person can find the controls. */
const CONTROL_ENDPOINTS = [
  'GET    /_simulator/runners                      the runners GitHub holds',
  'POST   /_simulator/runners                      {"count", "name_prefix"?, "status"?, "busy"?, "ephemeral"?, "labels"?}: add runners',
  'POST   /_simulator/runners/register             {"token", "name", "labels"?, "ephemeral"?}: what ./config.sh does with a registration token',
  'POST   /_simulator/runners/{id}/status          {"status"?: "online"|"offline", "busy"?}: change a runner',
  'POST   /_simulator/runners/{id}/complete-job    an ephemeral runner finished its job (it disappears)',
  'POST   /_simulator/faults                       {"method"?, "path"? | "pathRegex"?, "query"?, "status"?, "body"?, "delayMs"?, "rateLimit"?, "retryAfterSeconds"?, "times"?, "afterHandling"?}',
  'DELETE /_simulator/faults                       clear faults',
  'GET    /_simulator/requests                     the requests the simulator answered',
  'POST   /_simulator/tokens/revoke                revoke every installation token',
  'POST   /_simulator/reset                        forget runners, faults and requests',
];

export class GithubSimulator {
  readonly url: string;
  readonly appId: string;
  /** GitHub also accepts the App's client ID as the JWT `iss`. */
  readonly clientId: string;
  readonly installationId: number;
  readonly org: string;
  /** The App's private key, handed to the service under test. A secret: never log it. */
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;

  private readonly server: Server;
  private readonly publicKey: KeyObject;
  private readonly tokenLifetimeSeconds: number;
  private readonly installationTokens = new Map<string, number>();
  private readonly runnersById = new Map<number, SimulatedRunner>();
  private readonly runnerIdsByName = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  private readonly pendingDelays = new Set<PendingDelay>();
  private faults: ActiveFault[] = [];
  private requestLog: SimulatorRequest[] = [];
  // Map iteration order is id order (ids only grow); cache the array for pagination over many runners.
  private runnerListCache: SimulatedRunner[] | null = null;
  private nextRunnerId = 1;
  /** Registration tokens issued, with when each expires (ms); config.sh needs a live one. */
  private readonly registrationTokens = new Map<string, number>();
  private nextLabelId = 1;
  private rateLimitUsed = 0;
  private rateLimitWindowStart = nowSeconds();

  private constructor(
    server: Server,
    url: string,
    options: Required<Omit<GithubSimulatorOptions, 'port' | 'host'>>,
    keys: { privateKeyPem: string; publicKeyPem: string },
  ) {
    this.server = server;
    this.url = url;
    this.org = options.org;
    this.appId = options.appId;
    this.installationId = options.installationId;
    this.tokenLifetimeSeconds = options.tokenLifetimeSeconds;
    this.privateKeyPem = keys.privateKeyPem;
    this.publicKeyPem = keys.publicKeyPem;
    this.publicKey = createPublicKey(keys.publicKeyPem);
    this.clientId = `Iv23li${randomString(BASE62, 14)}`;
  }

  /** The GitHub settings a service needs to use this simulator as its GitHub. */
  connectionSettings(): Pick<GithubConfig, 'apiUrl' | 'appId' | 'installationId' | 'privateKey' | 'org'> {
    return {
      apiUrl: this.url,
      appId: this.appId,
      installationId: this.installationId,
      privateKey: this.privateKeyPem,
      org: this.org,
    };
  }

  static async start(options: GithubSimulatorOptions = {}): Promise<GithubSimulator> {
    const host = options.host ?? '127.0.0.1';
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const simulator = new GithubSimulator(
      server,
      `http://${urlHost(host)}:${port}`,
      {
        org: options.org ?? DEFAULT_ORG,
        appId: options.appId ?? DEFAULT_APP_ID,
        installationId: options.installationId ?? DEFAULT_INSTALLATION_ID,
        tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
      },
      { privateKeyPem: privateKey, publicKeyPem: publicKey },
    );
    server.on('request', (req, res) => {
      simulator.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          simulator.send(res, { status: 500, body: errorBody(500, String(error), DOCS) });
        }
      });
    });
    return simulator;
  }

  async stop(): Promise<void> {
    for (const pending of this.pendingDelays) {
      clearTimeout(pending.timer);
      pending.resolve(false);
    }
    this.pendingDelays.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive sockets would otherwise hold the server (and jest) open.
    this.server.closeAllConnections();
    await closed;
  }

  // ---- in-process control (the same operations are exposed under /_simulator/) ----

  setRunnerStatus(id: number, change: { status?: RunnerStatus; busy?: boolean }): SimulatedRunner {
    const runner = this.runnersById.get(id);
    if (!runner) throw new Error(`No runner with id ${id}`);
    if (change.status !== undefined) {
      runner.status = change.status;
      // A runner that connects reports its OS and version; before that GitHub shows "unknown".
      if (change.status === 'online' && runner.os === 'unknown') {
        runner.os = 'linux';
        runner.version = RUNNER_VERSION;
      }
    }
    if (change.busy !== undefined) runner.busy = change.busy;
    return structuredClone(runner);
  }

  /** The runner finished a job: an ephemeral (JIT) runner is removed by GitHub, others go idle. */
  completeJob(id: number): void {
    const runner = this.runnersById.get(id);
    if (!runner) throw new Error(`No runner with id ${id}`);
    if (runner.ephemeral) {
      this.removeRunner(runner);
    } else {
      runner.busy = false;
    }
  }

  addRunners(count: number, options: AddRunnersOptions = {}): SimulatedRunner[] {
    const prefix = options.namePrefix ?? 'sim-runner';
    const status = options.status ?? 'online';
    const labelNames = options.labels ?? ['self-hosted', 'Linux', 'X64'];
    const created: SimulatedRunner[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextRunnerId++;
      let name = `${prefix}-${id}`;
      for (let suffix = 2; this.runnerIdsByName.has(name); suffix++) name = `${prefix}-${id}-${suffix}`;
      const runner: SimulatedRunner = {
        id,
        name,
        os: options.os ?? 'linux',
        status,
        busy: options.busy ?? false,
        ephemeral: options.ephemeral ?? false,
        runner_group_id: DEFAULT_RUNNER_GROUP_ID,
        labels: this.toLabels(labelNames),
        version: RUNNER_VERSION,
      };
      this.insertRunner(runner);
      created.push(structuredClone(runner));
    }
    return created;
  }

  /**
   * What `./config.sh` does: registers a runner with a registration token this simulator issued and
   * that has not expired. The runner is configured but not started: offline, idle, its OS known.
   * Like config.sh, it adds the default labels (self-hosted, OS, architecture) before the custom ones.
   */
  registerRunner(options: RegisterRunnerOptions): SimulatedRunner {
    const expiresAt = this.registrationTokens.get(options.token);
    if (expiresAt === undefined || expiresAt < Date.now()) throw new Error('Invalid or expired registration token');
    if (this.runnerIdsByName.has(options.name)) throw new Error(`A runner with the name ${options.name} already exists`);
    const runner: SimulatedRunner = {
      id: this.nextRunnerId++,
      name: options.name,
      os: 'linux',
      status: 'offline',
      busy: false,
      ephemeral: options.ephemeral ?? false,
      runner_group_id: DEFAULT_RUNNER_GROUP_ID,
      labels: this.toLabels(['self-hosted', 'Linux', 'X64', ...(options.labels ?? [])]),
      version: RUNNER_VERSION,
    };
    this.insertRunner(runner);
    return structuredClone(runner);
  }

  injectFault(fault: SimulatorFault): void {
    this.faults.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Forgets runners, faults, the request log and the rate-limit count. Tokens stay valid and ids keep growing, as on GitHub. */
  reset(): void {
    this.runnersById.clear();
    this.runnerIdsByName.clear();
    this.runnerListCache = null;
    this.faults = [];
    this.requestLog = [];
    this.rateLimitUsed = 0;
    this.rateLimitWindowStart = nowSeconds();
  }

  /** Makes every installation token issued so far invalid (answers 401 Bad credentials). */
  revokeInstallationTokens(): void {
    this.installationTokens.clear();
  }

  requests(): SimulatorRequest[] {
    return structuredClone(this.requestLog);
  }

  requestCount(method: string, pathPattern: string | RegExp): number {
    const wanted = method.toUpperCase();
    return this.requestLog.filter((r) => r.method === wanted && pathMatches(pathPattern, r.path)).length;
  }

  runners(): SimulatedRunner[] {
    return structuredClone(this.sortedRunners());
  }

  findRunnerByName(name: string): SimulatedRunner | undefined {
    const id = this.runnerIdsByName.get(name);
    const runner = id === undefined ? undefined : this.runnersById.get(id);
    return runner ? structuredClone(runner) : undefined;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', 'http://simulator.invalid');
    const trimmed = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, '') : parsed.pathname;
    // GitHub Enterprise Server serves the same API under /api/v3: accept both forms.
    const path = trimmed.startsWith(`${GHES_API_PREFIX}/`) ? trimmed.slice(GHES_API_PREFIX.length) : trimmed;
    const query: Record<string, string> = {};
    for (const [key, value] of parsed.searchParams) query[key] = value;
    const method = (req.method ?? 'GET').toUpperCase();

    let body: unknown;
    let bodyError = false;
    try {
      body = await readJsonBody(req);
    } catch {
      bodyError = true;
    }

    if (path === '/_simulator' || path.startsWith('/_simulator/')) {
      this.send(res, bodyError ? badJson() : this.handleControl(method, path, body));
      return;
    }

    const fault = this.takeFault(method, path, query);
    let response: SimResponse | undefined;
    if (fault && !fault.afterHandling) {
      if (fault.delayMs && !(await this.delay(fault.delayMs))) return;
      response = this.faultResponse(fault);
    }
    if (!response) {
      response = bodyError ? badJson() : this.handleApi(req, method, path, query, body);
      if (fault?.afterHandling) {
        if (fault.delayMs && !(await this.delay(fault.delayMs))) return;
        response = this.faultResponse(fault) ?? response;
      }
    }

    this.requestLog.push({ method, path, query, status: response.status, ...(body === undefined ? {} : { body }) });
    this.send(res, response, true);
  }

  private handleApi(
    req: IncomingMessage,
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): SimResponse {
    if (!req.headers['user-agent']) {
      return {
        status: 403,
        body: errorBody(
          403,
          'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.',
          DOCS,
        ),
      };
    }
    const credential = parseAuthorization(req.headers.authorization);

    let match = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path);
    if (match) {
      if (method !== 'POST') return notFound();
      return this.createInstallationToken(credential, decodeURIComponent(match[1]), body);
    }

    match = /^\/orgs\/([^/]+)\/actions\/(.+)$/.exec(path);
    if (!match) return notFound();
    const org = decodeURIComponent(match[1]);
    const rest = match[2];

    const route = this.routeOrgActions(method, rest);
    if (!route) return notFound();
    const authError = this.checkInstallationToken(credential);
    if (authError) return authError;
    this.countRateLimited();
    if (org.toLowerCase() !== this.org.toLowerCase()) return notFound(route.docs);
    return route.run(query, body);
  }

  private routeOrgActions(
    method: string,
    rest: string,
  ): { docs: string; run: (query: Record<string, string>, body: unknown) => SimResponse } | undefined {
    if (rest === 'runners/registration-token' && method === 'POST') {
      return { docs: DOCS_REGISTRATION_TOKEN, run: () => this.createRegistrationToken() };
    }
    if (rest === 'runners/generate-jitconfig' && method === 'POST') {
      return { docs: DOCS_JIT, run: (_q, body) => this.generateJitConfig(body) };
    }
    if (rest === 'runners' && method === 'GET') {
      return { docs: DOCS_LIST_RUNNERS, run: (query) => this.listRunners(query) };
    }
    if (rest === 'runner-groups' && method === 'GET') {
      return { docs: DOCS_RUNNER_GROUPS, run: () => this.listRunnerGroups() };
    }
    const runnerMatch = /^runners\/([^/]+)$/.exec(rest);
    if (runnerMatch && (method === 'GET' || method === 'DELETE')) {
      const id = /^\d+$/.test(runnerMatch[1]) ? Number(runnerMatch[1]) : undefined;
      if (method === 'GET') return { docs: DOCS_GET_RUNNER, run: () => this.getRunner(id) };
      return { docs: DOCS_DELETE_RUNNER, run: () => this.deleteRunner(id) };
    }
    return undefined;
  }

  private createInstallationToken(credential: string | undefined, installationId: string, body: unknown): SimResponse {
    const unauthorized = (message: string): SimResponse => ({ status: 401, body: errorBody(401, message, DOCS) });
    if (!credential) return unauthorized('Requires authentication');
    const jwtError = this.verifyAppJwt(credential);
    if (jwtError) return unauthorized(jwtError);
    this.countRateLimited();
    if (installationId !== String(this.installationId)) return notFound(DOCS_ACCESS_TOKEN);

    const requested = isRecord(body) && isRecord(body.permissions) ? body.permissions : undefined;
    if (requested) {
      const notGranted = Object.entries(requested).some(
        ([name, level]) => !(name in GRANTED_PERMISSIONS) || (level === 'write' && GRANTED_PERMISSIONS[name] !== 'write'),
      );
      if (notGranted) {
        return {
          status: 422,
          body: errorBody(422, 'The permissions requested are not granted to this installation.', DOCS_ACCESS_TOKEN),
        };
      }
    }

    const token = `ghs_${randomString(BASE62, 60)}`;
    const expiresAt = Date.now() + this.tokenLifetimeSeconds * 1000;
    this.installationTokens.set(token, expiresAt);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: requested ?? { ...GRANTED_PERMISSIONS },
        repository_selection: 'all',
      },
    };
  }

  /** Returns GitHub's error message when the App JWT is not acceptable, else undefined. */
  private verifyAppJwt(jwt: string): string | undefined {
    const parts = jwt.split('.');
    if (parts.length !== 3) return JWT_UNDECODABLE;
    const [encodedHeader, encodedPayload, encodedSignature] = parts;
    const header = decodeJwtPart(encodedHeader);
    const payload = decodeJwtPart(encodedPayload);
    if (!header || !payload || header.alg !== 'RS256') return JWT_UNDECODABLE;
    const signatureValid = verify(
      'RSA-SHA256',
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      this.publicKey,
      Buffer.from(encodedSignature, 'base64url'),
    );
    // GitHub gives the same answer for a foreign key and for an `iss` naming another App.
    if (!signatureValid) return JWT_UNDECODABLE;
    if (String(payload.iss) !== this.appId && payload.iss !== this.clientId) return JWT_UNDECODABLE;
    const now = nowSeconds();
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || iat > now + JWT_CLOCK_SKEW_SECONDS) return JWT_IAT_INVALID;
    if (typeof exp !== 'number' || exp <= now) return JWT_EXP_INVALID;
    if (exp - iat > JWT_MAX_LIFETIME_SECONDS || exp > now + JWT_MAX_LIFETIME_SECONDS + JWT_CLOCK_SKEW_SECONDS) {
      return JWT_EXP_TOO_FAR;
    }
    return undefined;
  }

  private checkInstallationToken(credential: string | undefined): SimResponse | undefined {
    if (!credential) return { status: 401, body: errorBody(401, 'Requires authentication', DOCS) };
    const expiresAt = this.installationTokens.get(credential);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      return { status: 401, body: errorBody(401, 'Bad credentials', DOCS) };
    }
    return undefined;
  }

  private createRegistrationToken(): SimResponse {
    const expiresAt = new Date(Date.now() + REGISTRATION_TOKEN_LIFETIME_SECONDS * 1000);
    const token = randomString(BASE32, 29);
    this.registrationTokens.set(token, expiresAt.getTime());
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
    const request = body as { name: string; runner_group_id: number; labels: string[]; work_folder?: string };
    if (request.runner_group_id !== DEFAULT_RUNNER_GROUP_ID) return notFound(DOCS_JIT);
    if (this.runnerIdsByName.has(request.name)) {
      return {
        status: 409,
        body: errorBody(409, `Already exists - A runner with the name ${request.name} already exists.`, DOCS_JIT),
      };
    }
    if (this.runnersById.size >= MAX_RUNNERS_PER_GROUP) {
      return {
        status: 422,
        body: errorBody(
          422,
          `Runner group "Default" has reached the maximum of ${MAX_RUNNERS_PER_GROUP} runners.`,
          DOCS_JIT,
        ),
      };
    }

    const runner: SimulatedRunner = {
      id: this.nextRunnerId++,
      name: request.name,
      os: 'unknown',
      status: 'offline',
      busy: false,
      ephemeral: true,
      runner_group_id: request.runner_group_id,
      labels: this.toLabels(request.labels),
    };
    this.insertRunner(runner);
    return {
      status: 201,
      body: {
        runner: structuredClone(runner),
        encoded_jit_config: this.encodeJitConfig(runner, request.work_folder ?? '_work'),
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
      const id = this.runnerIdsByName.get(name);
      const runner = id === undefined ? undefined : this.runnersById.get(id);
      matching = runner ? [runner] : [];
    } else {
      matching = this.sortedRunners();
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
      return `<${this.url}/orgs/${encodeURIComponent(this.org)}/actions/runners?${params.toString()}>`;
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
    const runner = id === undefined ? undefined : this.runnersById.get(id);
    if (!runner) return notFound(DOCS_GET_RUNNER);
    return { status: 200, body: structuredClone(runner) };
  }

  private deleteRunner(id: number | undefined): SimResponse {
    const runner = id === undefined ? undefined : this.runnersById.get(id);
    if (!runner) return notFound(DOCS_DELETE_RUNNER);
    if (runner.busy) {
      return {
        status: 422,
        body: errorBody(422, `Bad request - Runner "${runner.name}" is still running a job`, DOCS_DELETE_RUNNER),
      };
    }
    this.removeRunner(runner);
    return { status: 204 };
  }

  private listRunnerGroups(): SimResponse {
    const org = encodeURIComponent(this.org);
    return {
      status: 200,
      body: {
        total_count: 1,
        runner_groups: [
          {
            id: DEFAULT_RUNNER_GROUP_ID,
            name: 'Default',
            visibility: 'all',
            default: true,
            runners_url: `${this.url}/orgs/${org}/actions/runner_groups/${DEFAULT_RUNNER_GROUP_ID}/runners`,
            inherited: false,
            allows_public_repositories: false,
            restricted_to_workflows: false,
            selected_workflows: [],
            workflow_restrictions_read_only: false,
          },
        ],
      },
    };
  }

  private handleControl(method: string, path: string, body: unknown): SimResponse {
    const input = isRecord(body) ? body : {};
    const controlError = (status: number, message: string): SimResponse => ({ status, body: { message } });

    if ((path === '/_simulator' || path === '/_simulator/') && method === 'GET') {
      return { status: 200, body: { control_endpoints: CONTROL_ENDPOINTS } };
    }
    if (path === '/_simulator/reset' && method === 'POST') {
      this.reset();
      return { status: 204 };
    }
    if (path === '/_simulator/requests' && method === 'GET') {
      return { status: 200, body: { requests: this.requestLog } };
    }
    if (path === '/_simulator/faults' && method === 'POST') {
      const fault = parseFault(input);
      if (typeof fault === 'string') return controlError(400, fault);
      this.injectFault(fault);
      return { status: 201, body: { faults: this.faults.length } };
    }
    if (path === '/_simulator/faults' && method === 'DELETE') {
      this.clearFaults();
      return { status: 204 };
    }
    if (path === '/_simulator/tokens/revoke' && method === 'POST') {
      this.revokeInstallationTokens();
      return { status: 204 };
    }
    if (path === '/_simulator/runners' && method === 'GET') {
      return { status: 200, body: { runners: this.sortedRunners() } };
    }
    if (path === '/_simulator/runners/register' && method === 'POST') {
      if (typeof input.token !== 'string' || typeof input.name !== 'string') {
        return controlError(400, 'token and name must be strings');
      }
      const labels = input.labels;
      if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === 'string'))) {
        return controlError(400, 'labels must be an array of strings');
      }
      try {
        const runner = this.registerRunner({
          token: input.token,
          name: input.name,
          labels: labels as string[] | undefined,
          ephemeral: input.ephemeral === true,
        });
        return { status: 201, body: runner };
      } catch (error) {
        return controlError(422, (error as Error).message);
      }
    }
    if (path === '/_simulator/runners' && method === 'POST') {
      const count = input.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
        return controlError(400, 'count must be a positive integer');
      }
      const status = input.status;
      if (status !== undefined && status !== 'online' && status !== 'offline') {
        return controlError(400, 'status must be "online" or "offline"');
      }
      const labels = input.labels;
      if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === 'string'))) {
        return controlError(400, 'labels must be an array of strings');
      }
      const runners = this.addRunners(count, {
        namePrefix: typeof input.name_prefix === 'string' ? input.name_prefix : undefined,
        status,
        busy: typeof input.busy === 'boolean' ? input.busy : undefined,
        ephemeral: typeof input.ephemeral === 'boolean' ? input.ephemeral : undefined,
        labels: labels as string[] | undefined,
      });
      return { status: 201, body: { runners } };
    }

    const match = /^\/_simulator\/runners\/(\d+)\/(status|complete-job)$/.exec(path);
    if (match && method === 'POST') {
      const id = Number(match[1]);
      if (!this.runnersById.has(id)) return controlError(404, `No runner with id ${id}`);
      if (match[2] === 'complete-job') {
        this.completeJob(id);
        return { status: 204 };
      }
      const status = input.status;
      if (status !== undefined && status !== 'online' && status !== 'offline') {
        return controlError(400, 'status must be "online" or "offline"');
      }
      if (input.busy !== undefined && typeof input.busy !== 'boolean') {
        return controlError(400, 'busy must be a boolean');
      }
      return { status: 200, body: this.setRunnerStatus(id, { status, busy: input.busy }) };
    }
    return controlError(404, 'Not Found');
  }

  private takeFault(method: string, path: string, query: Record<string, string>): SimulatorFault | undefined {
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

  /** The answer a fault imposes, or undefined when it only delays. */
  private faultResponse(fault: SimulatorFault): SimResponse | undefined {
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

  private send(res: ServerResponse, response: SimResponse, githubHeaders = false): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = {};
    if (githubHeaders) {
      const reset = this.rateLimitWindowStart + RATE_LIMIT_WINDOW_SECONDS;
      Object.assign(headers, {
        'x-github-api-version-selected': '2022-11-28',
        'x-github-media-type': 'github.v3; format=json',
        'x-github-request-id': requestId(),
        'x-ratelimit-limit': String(RATE_LIMIT),
        'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - this.rateLimitUsed)),
        'x-ratelimit-used': String(this.rateLimitUsed),
        'x-ratelimit-reset': String(reset),
        'x-ratelimit-resource': 'core',
      });
    }
    Object.assign(headers, response.headers);
    if (response.status === 204 || response.body === undefined) {
      res.writeHead(response.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(response.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers);
    res.end(text);
  }

  private countRateLimited(): void {
    const now = nowSeconds();
    if (now >= this.rateLimitWindowStart + RATE_LIMIT_WINDOW_SECONDS) {
      this.rateLimitWindowStart = now;
      this.rateLimitUsed = 0;
    }
    this.rateLimitUsed += 1;
  }

  private insertRunner(runner: SimulatedRunner): void {
    this.runnersById.set(runner.id, runner);
    this.runnerIdsByName.set(runner.name, runner.id);
    this.runnerListCache = null;
  }

  private removeRunner(runner: SimulatedRunner): void {
    this.runnersById.delete(runner.id);
    this.runnerIdsByName.delete(runner.name);
    this.runnerListCache = null;
  }

  private sortedRunners(): SimulatedRunner[] {
    this.runnerListCache ??= Array.from(this.runnersById.values());
    return this.runnerListCache;
  }

  /** Labels keep one id per name across the org, like GitHub's; duplicate names collapse. */
  private toLabels(names: string[]): SimulatedRunnerLabel[] {
    const labels: SimulatedRunnerLabel[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const key = name.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      let id = this.labelIds.get(key);
      if (id === undefined) {
        id = this.nextLabelId++;
        this.labelIds.set(key, id);
      }
      labels.push({ id, name, type: DEFAULT_LABEL_NAMES.has(key) ? 'read-only' : 'custom' });
    }
    return labels;
  }

  /** Base64 of a JSON map from runner file name to base64 file contents, like GitHub's. */
  private encodeJitConfig(runner: SimulatedRunner, workFolder: string): string {
    const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
    const poolUrl = `${this.url}/_services/pipelines/${randomString(BASE62, 24)}`;
    const files = {
      '.runner': b64({
        AgentId: String(runner.id),
        AgentName: runner.name,
        PoolId: String(runner.runner_group_id),
        PoolName: 'Default',
        ServerUrl: poolUrl,
        GitHubUrl: `${this.url}/${this.org}`,
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
}

function validateJitRequest(body: unknown): string[] | undefined {
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

function parseFault(input: Record<string, unknown>): SimulatorFault | string {
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
  for (const key of ['rateLimit', 'afterHandling'] as const) {
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

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('Body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseAuthorization(header: string | undefined): string | undefined {
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function errorBody(status: number, message: string, documentationUrl: string): Record<string, string> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

function notFound(documentationUrl = DOCS): SimResponse {
  return { status: 404, body: errorBody(404, 'Not Found', documentationUrl) };
}

function badJson(): SimResponse {
  return { status: 400, body: errorBody(400, 'Problems parsing JSON', DOCS) };
}

function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (typeof pattern === 'string') return pattern === path;
  pattern.lastIndex = 0;
  return pattern.test(path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePositiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 ? n : undefined;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function requestId(): string {
  const hex = (bytes: number): string => randomBytes(bytes).toString('hex').toUpperCase();
  return `${hex(2)}:${hex(3)}:${hex(4)}:${hex(4)}:${hex(4)}`;
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

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
