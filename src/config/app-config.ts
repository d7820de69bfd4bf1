/** The typed configuration. `loadConfig` (config.loader.ts) is the only place that reads process.env. */

export type DatabaseConfig =
  | { kind: 'postgres'; url: string }
  /** dataDir is a folder path, or undefined for an in-memory database. */
  | { kind: 'pglite'; dataDir: string | undefined };

export interface AppSettings {
  port: number;
  /**
   * Address to listen on: all interfaces by default; loopback in the demo and whenever authentication
   * is off (another address then needs ALLOW_UNAUTHENTICATED_NETWORK=true).
   */
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Pretty, human-readable log lines instead of JSON (development and the demo). */
  prettyLogs: boolean;
  /** `npm run demo`: embedded database, built-in GitHub simulator, OIDC off. */
  demo: boolean;
  /**
   * Which proxies' X-Forwarded-For to believe for the caller's address (Express "trust proxy"):
   * false (none, the default), true (all), a hop count, or addresses/CIDRs/loopback|linklocal|uniquelocal.
   */
  trustProxy: boolean | number | string[];
  /** REQUEST_DEADLINE_MS: each HTTP request's total budget, shared by every GitHub call made for it. */
  requestDeadlineMs: number;
  /** SHUTDOWN_DRAIN_SECONDS: how long the service keeps serving after /health and /readyz turn 503 on SIGTERM. */
  shutdownDrainSeconds: number;
}

export interface AuthConfig {
  enabled: boolean;
  /** OIDC_ISSUER: the one issuer of the shorthand; '' when a policy file names the issuers. */
  issuer: string;
  audience: string;
  /** OIDC_JWKS_URL; '' means discovered from OIDC_ISSUER/.well-known/openid-configuration. */
  jwksUrl: string;
  /** The claim shown as the caller's name (default `email`, falling back to `sub`). */
  userClaim: string;
  /** Seconds of clock skew accepted on `exp`/`nbf`/`iat`; at most 60. */
  clockToleranceSeconds: number;
  /** POLICY_FILE: the access policy (YAML); undefined keeps the seed's behaviour (any caller, any labels). */
  policyFile?: string;
}

export interface GithubConfig {
  /** `https://api.github.com`, `https://HOST/api/v3` (GHES), or the simulator's URL. */
  apiUrl: string;
  appId: string;
  installationId: number;
  /** The App's PEM private key. A secret: never logged, never printed. */
  privateKey: string;
  org: string;
  runnerGroupId: number;
  /** Labels JIT runners always get, first (GitHub adds none to JIT runners). */
  systemLabels: string[];
  /** Per-request timeout in milliseconds (at most 10 s). */
  requestTimeoutMs: number;
  /** GITHUB_MAX_CONCURRENCY: calls to GitHub under way at once from this instance; more wait their turn. */
  maxConcurrency: number;
  /**
   * GITHUB_JITCONFIG_PER_MINUTE: generate-jitconfig calls this instance makes in any 60 s; 0 is no
   * limit. Per instance: with several replicas, divide GitHub's allowance by their number.
   */
  jitConfigPerMinute: number;
  /** True when GitHub is the built-in simulator (the demo). */
  simulated: boolean;
  /**
   * GITHUB_WEBHOOK_SECRET: the secret of the App's webhook, which signs every delivery. A secret:
   * never logged, never printed. Unset: POST /webhooks/github does not exist (404).
   */
  webhookSecret?: string;
}

/** What the service offers and how long runners may wait, for the API, the CLI and the scheduler. */
export interface RunnerSettings {
  /** POST /runners/provision (legacy registration tokens); JIT is always on. */
  registrationTokensEnabled: boolean;
  /** A pending runner this young is not marked deleted for being absent from GitHub. */
  pendingGraceMinutes: number;
  /** cleanup-stale-runners' default: pending or offline for longer than this. */
  staleRunnerHours: number;
  /**
   * JIT_START_TIMEOUT_MINUTES: a JIT runner must come online this long after it was issued (the
   * answer's expires_at); the next cleanup removes one that did not (reason never_started).
   */
  jitStartTimeoutMinutes: number;
  /** KNOWN_RUNNER_NAMES: whole-name patterns of runners other tools manage; never foreign. */
  knownRunnerNames: RegExp[];
  /**
   * FOREIGN_RUNNERS: what the sync does with runners on GitHub that this service did not issue:
   * `report` them (always), or also `remove` those offline and idle.
   */
  foreignRunners: ForeignRunnerPolicy;
}

export const FOREIGN_RUNNER_POLICIES = ['report', 'remove'] as const;
export type ForeignRunnerPolicy = (typeof FOREIGN_RUNNER_POLICIES)[number];

/** The background reconciliation (never started by the CLI). */
export interface SchedulerSettings {
  enabled: boolean;
  syncIntervalSeconds: number;
  cleanupIntervalMinutes: number;
}

/** GET /metrics (Prometheus). */
export interface MetricsSettings {
  /** METRICS_TOKEN: when set, a scrape must send it as a bearer token. A secret: never logged. */
  token?: string;
  /** METRICS_PORT: serve /metrics on this port only (same HOST), not on the API's port. */
  port?: number;
}

/**
 * Requests a minute before 429 RATE_LIMITED, counted in this instance's memory (N replicas let N times
 * as many through). 0 turns a limit off; the demo turns both off.
 */
export interface RateLimitSettings {
  /** RATE_LIMIT_PER_IP_PER_MINUTE: per client address, before the token is looked at. */
  perIpPerMinute: number;
  /** RATE_LIMIT_PER_IDENTITY_PER_MINUTE: per authenticated caller (issuer + subject), after authentication. */
  perIdentityPerMinute: number;
}

/** The audit trail as exported for other systems (`export-audit-log --format cloudevents`). */
export interface AuditSettings {
  /**
   * AUDIT_EVENT_SOURCE: each CloudEvent's `source`, an absolute URI naming this service's trail
   * (default `urn:runner-token-service:<GITHUB_ORG>`). With the event's id it is what a SIEM
   * dedupes on, so it stays the same from one export to the next.
   */
  eventSource: string;
}

export interface AppConfig {
  app: AppSettings;
  metrics: MetricsSettings;
  database: DatabaseConfig;
  auth: AuthConfig;
  github: GithubConfig;
  runners: RunnerSettings;
  scheduler: SchedulerSettings;
  rateLimit: RateLimitSettings;
  audit: AuditSettings;
}

/** Nest injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
