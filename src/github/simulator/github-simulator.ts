import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { GithubConfig } from '../../config/app-config.js';
import { AppAuth, parseAuthorization } from './app-auth.js';
import { controlError, controlRoutes, type ControlRequest } from './control.routes.js';
import { FaultInjector, type SimulatorFault } from './fault-injector.js';
import { RouteTable, type ApiRequest } from './route-table.js';
import { RunnerRoutes } from './runner.routes.js';
import {
  RunnerStore,
  type AddRunnersOptions,
  type GithubRunnerStatus,
  type RegisterRunnerOptions,
  type SimulatedRunner,
  type SimulatedRunnerGroup,
} from './runner.store.js';
import {
  badJson,
  DOCS,
  errorBody,
  listen,
  notFound,
  RateLimit,
  readJsonBody,
  requestTarget,
  send,
  serve,
  stopServer,
  type RateLimitSettings,
  type RequestTarget,
  type SimResponse,
  type SimulatorRequest,
} from './simulator-http.js';
import { isRecord, pathMatches } from './simulator.util.js';

export type { SimulatorFault } from './fault-injector.js';
export type {
  AddRunnersOptions,
  GithubRunnerStatus,
  RegisterRunnerOptions,
  SimulatedRunner,
  SimulatedRunnerLabel,
} from './runner.store.js';
export type { RateLimitSettings, SimulatorRequest } from './simulator-http.js';

/** Every credential the simulator handed out, by kind: what must never appear in a log or a table. */
export interface IssuedCredentials {
  installationTokens: string[];
  registrationTokens: string[];
  jitConfigs: string[];
}

export interface GithubSimulatorOptions {
  port?: number;
  host?: string;
  org?: string;
  appId?: string;
  installationId?: number;
  tokenLifetimeSeconds?: number;
}

const DEFAULT_ORG = 'sim-org';
const DEFAULT_APP_ID = '424242';
const DEFAULT_INSTALLATION_ID = 4242;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const USER_AGENT_REQUIRED =
  'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.';

/**
 * An in-memory stand-in for the slice of GitHub's REST API the service uses (App installation
 * tokens and org-scope self-hosted runners), with GitHub's shapes, status codes and headers.
 * It is a plain node:http server so tests exercise the real HTTP client, retries and pagination.
 *
 * This class is the facade; the parts live beside it: HTTP plumbing, the route table, App auth,
 * the runner store and its routes, fault injection and the `/_simulator` control API.
 */
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
  private readonly rateLimit = new RateLimit();
  private readonly store = new RunnerStore();
  private readonly auth: AppAuth;
  private readonly faults: FaultInjector;
  private readonly apiRoutes: RouteTable<ApiRequest>;
  private readonly controlRoutes: RouteTable<ControlRequest>;
  private requestLog: SimulatorRequest[] = [];
  /** REST requests being answered now, and the most there were at once since the last reset. */
  private inFlight = 0;
  private inFlightPeak = 0;
  private readonly issued: IssuedCredentials = { installationTokens: [], registrationTokens: [], jitConfigs: [] };

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
    this.privateKeyPem = keys.privateKeyPem;
    this.publicKeyPem = keys.publicKeyPem;
    this.auth = new AppAuth({ ...options, publicKeyPem: keys.publicKeyPem }, this.rateLimit);
    this.clientId = this.auth.clientId;
    this.faults = new FaultInjector(this.installationId);
    const runnerRoutes = new RunnerRoutes(this.store, { url, org: this.org });
    this.apiRoutes = new RouteTable<ApiRequest>([
      this.auth.installationTokenRoute(),
      ...runnerRoutes.routes().map((route) => this.auth.orgScoped(route)),
    ]);
    this.controlRoutes = new RouteTable<ControlRequest>(
      controlRoutes({
        store: this.store,
        faults: this.faults,
        requestLog: () => this.requestLog,
        reset: () => this.reset(),
        revokeInstallationTokens: () => this.revokeInstallationTokens(),
        setRateLimit: (settings) => this.setRateLimit(settings),
      }),
    );
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
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const { server, url } = await listen(options.host ?? '127.0.0.1', options.port ?? 0);
    const simulator = new GithubSimulator(
      server,
      url,
      {
        org: options.org ?? DEFAULT_ORG,
        appId: options.appId ?? DEFAULT_APP_ID,
        installationId: options.installationId ?? DEFAULT_INSTALLATION_ID,
        tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS,
      },
      { privateKeyPem: privateKey, publicKeyPem: publicKey },
    );
    serve(server, (req, res) => simulator.handle(req, res));
    return simulator;
  }

  async stop(): Promise<void> {
    this.faults.cancelDelays();
    await stopServer(this.server);
  }

  // ---- in-process control (the same operations are exposed under /_simulator/) ----

  setRunnerStatus(id: number, change: { status?: GithubRunnerStatus; busy?: boolean }): SimulatedRunner {
    return this.store.setStatus(id, change);
  }

  /** The runner finished a job: an ephemeral (JIT) runner is removed by GitHub, others go idle. */
  completeJob(id: number): void {
    this.store.completeJob(id);
  }

  addRunners(count: number, options: AddRunnersOptions = {}): SimulatedRunner[] {
    return this.store.add(count, options);
  }

  /**
   * What `./config.sh` does: registers a runner with a registration token this simulator issued and
   * that has not expired. The runner is configured but not started: offline, idle, its OS known.
   * Like config.sh, it adds the default labels (self-hosted, OS, architecture) before the custom ones.
   */
  registerRunner(options: RegisterRunnerOptions): SimulatedRunner {
    return this.store.register(options);
  }

  /** Creates a runner group; JIT requests and `config.sh --runnergroup` can then use it. */
  addRunnerGroup(name: string): SimulatedRunnerGroup {
    return this.store.addRunnerGroup(name);
  }

  injectFault(fault: SimulatorFault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * GitHub's primary rate limit as a test needs it: how many requests the window allows, how many
   * are left, and when it resets. Once none are left, every org request answers 403 with remaining 0
   * and the reset time (no retry-after), as on GitHub, until the window resets.
   */
  setRateLimit(settings: RateLimitSettings): void {
    this.rateLimit.configure(settings);
  }

  /** Forgets runners, faults, the request log, the rate limit and the in-flight peak. Tokens stay valid and ids keep growing, as on GitHub. */
  reset(): void {
    this.store.clear();
    this.faults.clear();
    this.requestLog = [];
    this.rateLimit.reset();
    this.inFlightPeak = this.inFlight;
  }

  /** The most REST requests the simulator was answering at once (a delayed answer counts until it is sent). */
  peakConcurrentRequests(): number {
    return this.inFlightPeak;
  }

  /** Makes every installation token issued so far invalid (answers 401 Bad credentials). */
  revokeInstallationTokens(): void {
    this.auth.revokeInstallationTokens();
  }

  requests(): SimulatorRequest[] {
    return structuredClone(this.requestLog);
  }

  requestCount(method: string, pathPattern: string | RegExp): number {
    const wanted = method.toUpperCase();
    return this.requestLog.filter((r) => r.method === wanted && pathMatches(pathPattern, r.path)).length;
  }

  /**
   * Every installation token, registration token and encoded JIT config made so far, also those whose
   * answer never reached the service (it died, gave up waiting, or a fault replaced the answer): for
   * tests that search logs and tables for them. reset() keeps them.
   */
  issuedCredentials(): IssuedCredentials {
    return structuredClone(this.issued);
  }

  runners(): SimulatedRunner[] {
    return structuredClone(this.store.list());
  }

  findRunnerByName(name: string): SimulatedRunner | undefined {
    const runner = this.store.findByName(name);
    return runner ? structuredClone(runner) : undefined;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = requestTarget(req);
    const { method, path, query } = target;
    let body: unknown;
    let bodyError = false;
    try {
      body = await readJsonBody(req);
    } catch {
      bodyError = true;
    }

    // Control requests are the simulator's own: no faults, no log, no GitHub headers.
    if (path === '/_simulator' || path.startsWith('/_simulator/')) {
      send(res, bodyError ? badJson() : this.handleControl(method, path, body));
      return;
    }

    const fault = this.faults.take(method, path, query);
    this.inFlight += 1;
    this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlight);
    let response: SimResponse | undefined;
    try {
      response = await this.faults.answer(fault, () => {
        const handled = bodyError ? badJson() : this.handleApi(req, target, body);
        // Recorded when made: a fault may delay the answer past the caller's patience, or replace it.
        this.recordIssued(handled.body);
        return handled;
      });
    } finally {
      this.inFlight -= 1;
    }
    // A delay cut short by stop(): the request gets no answer.
    if (!response) return;

    this.requestLog.push({ method, path, query, status: response.status, ...(body === undefined ? {} : { body }) });
    send(res, response, this.rateLimit.githubHeaders());
  }

  private recordIssued(body: unknown): void {
    if (!isRecord(body)) return;
    if (typeof body.encoded_jit_config === 'string') this.issued.jitConfigs.push(body.encoded_jit_config);
    if (typeof body.token !== 'string') return;
    // An installation token answer lists the permissions it grants; a registration token's does not.
    if (body.permissions !== undefined) this.issued.installationTokens.push(body.token);
    else this.issued.registrationTokens.push(body.token);
  }

  private handleApi(req: IncomingMessage, { method, path, query }: RequestTarget, body: unknown): SimResponse {
    if (!req.headers['user-agent']) return { status: 403, body: errorBody(403, USER_AGENT_REQUIRED, DOCS) };
    const credential = parseAuthorization(req.headers.authorization);
    return this.apiRoutes.dispatch(method, path, { query, body, credential }) ?? notFound();
  }

  private handleControl(method: string, path: string, body: unknown): SimResponse {
    const input = isRecord(body) ? body : {};
    return this.controlRoutes.dispatch(method, path, { body: input }) ?? controlError(404, 'Not Found');
  }
}
