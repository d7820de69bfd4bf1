import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import type {
  AppConfig,
  AppSettings,
  AuthConfig,
  DatabaseConfig,
  MetricsSettings,
  RateLimitSettings,
  RunnerSettings,
  SchedulerSettings,
} from './app-config.js';
import { FOREIGN_RUNNER_POLICIES, type ForeignRunnerPolicy } from './app-config.js';
import { GITHUB_ORG_LOGIN, readAudit } from './audit-settings.js';
import { type Env, EnvReader, isLoopbackHost } from './env-reader.js';
import { readGithub } from './github-config.loader.js';
import { readKnownRunnerNames } from './known-runner-names.js';

export {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_LIMITS,
  DEFAULT_GITHUB_MAX_CONCURRENCY,
  DEFAULT_JITCONFIG_PER_MINUTE,
  DEFAULT_SYSTEM_LABELS,
  MAX_GITHUB_CONCURRENCY,
  MAX_GITHUB_TIMEOUT_MS,
  MAX_SYSTEM_LABELS,
  MIN_WEBHOOK_SECRET_LENGTH,
} from './github-config.loader.js';

export type { Env } from './env-reader.js';

/** Every bad or missing variable, each with what it expects; the process stops with all of them. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_PORT = 8000;
/** A scrape token shorter than this could be guessed. */
export const MIN_METRICS_TOKEN_LENGTH = 16;
export const DEFAULT_REQUEST_DEADLINE_MS = 15_000;
export const MAX_REQUEST_DEADLINE_MS = 120_000;
export const DEFAULT_SHUTDOWN_DRAIN_SECONDS = 5;
/** The demo's database (and check-policy's, which opens none): in memory, gone at exit. */
export const DEMO_DATABASE_URL = 'pglite://memory';
export const LOOPBACK_HOST = '127.0.0.1';
export const ALL_INTERFACES_HOST = '0.0.0.0';
export const MAX_CLOCK_TOLERANCE_SECONDS = 60;
export const DEFAULT_PENDING_GRACE_MINUTES = 60;
export const DEFAULT_STALE_RUNNER_HOURS = 24;
export const DEFAULT_JIT_START_TIMEOUT_MINUTES = 60;
/** GitHub removes an ephemeral runner that never connected after about a day: a later expires_at would not hold. */
export const MAX_JIT_START_TIMEOUT_MINUTES = 1440;
export const DEFAULT_SYNC_INTERVAL_SECONDS = 120;
export const DEFAULT_CLEANUP_INTERVAL_MINUTES = 60;
/** A sync lists every runner of the org; more often than this spends GitHub's budget for nothing. */
export const MIN_SYNC_INTERVAL_SECONDS = 10;
/** The settings with nothing set, for code that builds an AppConfig itself (tests, benchmarks). */
export const DEFAULT_RUNNER_SETTINGS: RunnerSettings = {
  registrationTokensEnabled: true,
  pendingGraceMinutes: DEFAULT_PENDING_GRACE_MINUTES,
  staleRunnerHours: DEFAULT_STALE_RUNNER_HOURS,
  jitStartTimeoutMinutes: DEFAULT_JIT_START_TIMEOUT_MINUTES,
  knownRunnerNames: [],
  foreignRunners: 'report',
};
export const DEFAULT_SCHEDULER_SETTINGS: SchedulerSettings = {
  enabled: true,
  syncIntervalSeconds: DEFAULT_SYNC_INTERVAL_SECONDS,
  cleanupIntervalMinutes: DEFAULT_CLEANUP_INTERVAL_MINUTES,
};
export const DEFAULT_RATE_LIMIT_PER_IP_PER_MINUTE = 600;
export const DEFAULT_RATE_LIMIT_PER_IDENTITY_PER_MINUTE = 120;
/** Far above any real caller; a larger number is a typo. */
const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000;
/** Both limits off, for code that builds an AppConfig itself (tests, benchmarks) and for the demo. */
export const RATE_LIMITS_OFF: RateLimitSettings = { perIpPerMinute: 0, perIdentityPerMinute: 0 };
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * process.env over the variables of `.env` in the working directory (the environment wins).
 * The only place that touches process.env.
 */
export function readEnvironment(cwd = process.cwd(), options: { dotenv?: boolean } = {}): Env {
  if (options.dotenv === false) return { ...process.env };
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

export interface LoadOptions {
  /** `npm run demo`: embedded database, built-in GitHub simulator, OIDC off unless set. */
  demo?: boolean;
  /**
   * What the process needs: everything (the service); the database and GitHub without OIDC (CLI
   * commands that call GitHub); or only the database (`init-db`, `list-runners`, `export-audit-log`,
   * which must work before GitHub and OIDC are set up); or nothing (`check-policy`, which reads the
   * OIDC_* shorthand and the runner label and group settings when they are set, and needs none of
   * them). Out-of-scope sections come back disabled and empty.
   */
  scope?: 'all' | 'github' | 'database' | 'policy';
}

/** Validates the environment once into a typed AppConfig; throws ConfigError naming every problem. */
export function loadConfig(env: Env, options: LoadOptions = {}): AppConfig {
  const reader = new EnvReader(env);
  const demo = options.demo ?? false;
  const scope = options.scope ?? 'all';
  const auth = scope === 'all' ? readAuth(reader, demo) : scope === 'policy' ? readAuthShorthand(reader) : disabledAuth();
  // Only the service listens; the CLI's authentication is off because it verifies no token.
  const app = readApp(reader, { demo, unauthenticated: scope === 'all' && !auth.enabled });
  const database = readDatabase(reader, demo, scope === 'policy');
  const github = readGithub(reader, demo || scope === 'database' || scope === 'policy');
  const runners = readRunners(reader);
  const scheduler = readScheduler(reader);
  const metrics = readMetrics(reader, app.port);
  const rateLimit = readRateLimit(reader, demo);
  const audit = readAudit(reader);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { app, metrics, database, auth, github, runners, scheduler, rateLimit, audit };
}

/** The demo serves one person on loopback: no limits unless asked for. */
function readRateLimit(reader: EnvReader, demo: boolean): RateLimitSettings {
  const range = { min: 0, max: MAX_RATE_LIMIT_PER_MINUTE };
  return {
    perIpPerMinute: reader.integer('RATE_LIMIT_PER_IP_PER_MINUTE', demo ? 0 : DEFAULT_RATE_LIMIT_PER_IP_PER_MINUTE, range),
    perIdentityPerMinute: reader.integer(
      'RATE_LIMIT_PER_IDENTITY_PER_MINUTE',
      demo ? 0 : DEFAULT_RATE_LIMIT_PER_IDENTITY_PER_MINUTE,
      range,
    ),
  };
}

function readRunners(reader: EnvReader): RunnerSettings {
  return {
    registrationTokensEnabled: reader.boolean('ENABLE_REGISTRATION_TOKENS', true),
    pendingGraceMinutes: reader.integer('PENDING_GRACE_MINUTES', DEFAULT_PENDING_GRACE_MINUTES, { min: 1 }),
    staleRunnerHours: reader.integer('STALE_RUNNER_HOURS', DEFAULT_STALE_RUNNER_HOURS, { min: 1 }),
    jitStartTimeoutMinutes: reader.integer('JIT_START_TIMEOUT_MINUTES', DEFAULT_JIT_START_TIMEOUT_MINUTES, {
      min: 1,
      max: MAX_JIT_START_TIMEOUT_MINUTES,
    }),
    knownRunnerNames: readKnownRunnerNames(reader),
    foreignRunners: readForeignRunnerPolicy(reader),
  };
}

function readMetrics(reader: EnvReader, apiPort: number): MetricsSettings {
  const port =
    reader.string('METRICS_PORT') === undefined ? undefined : reader.integer('METRICS_PORT', 0, { min: 1, max: 65535 });
  if (port !== undefined && port === apiPort) {
    reader.problem('METRICS_PORT', `must differ from PORT (${apiPort}); leave it unset to serve /metrics on PORT`);
  }
  const token = reader.string('METRICS_TOKEN');
  if (token !== undefined && token.length < MIN_METRICS_TOKEN_LENGTH) {
    reader.problem('METRICS_TOKEN', `must be at least ${MIN_METRICS_TOKEN_LENGTH} characters (make one with: openssl rand -hex 32)`);
  }
  return { token, port };
}

function readForeignRunnerPolicy(reader: EnvReader): ForeignRunnerPolicy {
  const raw = reader.string('FOREIGN_RUNNERS')?.toLowerCase() ?? 'report';
  if ((FOREIGN_RUNNER_POLICIES as readonly string[]).includes(raw)) return raw as ForeignRunnerPolicy;
  reader.problem(
    'FOREIGN_RUNNERS',
    'must be report (the default: runners this service did not issue are reported) or remove ' +
      `(those offline and idle are also removed from GitHub); got "${raw}"`,
  );
  return 'report';
}

function readScheduler(reader: EnvReader): SchedulerSettings {
  return {
    enabled: reader.boolean('SCHEDULER_ENABLED', true),
    syncIntervalSeconds: reader.integer('SYNC_INTERVAL_SECONDS', DEFAULT_SYNC_INTERVAL_SECONDS, {
      min: MIN_SYNC_INTERVAL_SECONDS,
    }),
    cleanupIntervalMinutes: reader.integer('CLEANUP_INTERVAL_MINUTES', DEFAULT_CLEANUP_INTERVAL_MINUTES, { min: 1 }),
  };
}

function readApp(reader: EnvReader, { demo, unauthenticated }: { demo: boolean; unauthenticated: boolean }): AppSettings {
  const logLevel = (reader.string('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    reader.problem('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (any case)`);
  }
  const logFormat = reader.string('LOG_FORMAT') ?? (demo ? 'pretty' : 'json');
  if (logFormat !== 'json' && logFormat !== 'pretty') reader.problem('LOG_FORMAT', 'must be json or pretty');
  return {
    port: reader.integer('PORT', DEFAULT_PORT, { min: 0, max: 65535 }),
    host: readHost(reader, demo || unauthenticated, unauthenticated),
    logLevel: logLevel as AppSettings['logLevel'],
    prettyLogs: logFormat === 'pretty',
    demo,
    trustProxy: readTrustProxy(reader),
    requestDeadlineMs: reader.integer('REQUEST_DEADLINE_MS', DEFAULT_REQUEST_DEADLINE_MS, { min: 1000, max: MAX_REQUEST_DEADLINE_MS }),
    // The demo stops at once: nothing sits in front of it to drain.
    shutdownDrainSeconds: reader.integer('SHUTDOWN_DRAIN_SECONDS', demo ? 0 : DEFAULT_SHUTDOWN_DRAIN_SECONDS, { min: 0, max: 60 }),
  };
}

/**
 * Without authentication every request acts as local-user, so such a service stays on loopback
 * (the default then, and the demo's) unless ALLOW_UNAUTHENTICATED_NETWORK says the operator means it.
 */
function readHost(reader: EnvReader, loopbackByDefault: boolean, unauthenticated: boolean): string {
  const allowNetwork = reader.boolean('ALLOW_UNAUTHENTICATED_NETWORK', false);
  const host = reader.string('HOST');
  if (host === undefined) return loopbackByDefault ? LOOPBACK_HOST : ALL_INTERFACES_HOST;
  if (unauthenticated && !allowNetwork && !isLoopbackHost(host)) {
    reader.problem(
      'HOST',
      `is "${host}", not loopback, while ENABLE_OIDC_AUTH=false: anyone who reaches it would act as local-user. ` +
        'Unset HOST or set HOST=127.0.0.1, or set ENABLE_OIDC_AUTH=true, or set ALLOW_UNAUTHENTICATED_NETWORK=true if you mean it',
    );
  }
  return host;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function readTrustProxy(reader: EnvReader): AppSettings['trustProxy'] {
  const raw = reader.string('TRUST_PROXY');
  if (raw === undefined || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.every((entry) => PROXY_NAMES.includes(entry) || /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))) return entries;
  reader.problem(
    'TRUST_PROXY',
    `must be false, true, a number of proxy hops, or comma-separated addresses, CIDRs or ${PROXY_NAMES.join('/')} (got "${raw}")`,
  );
  return false;
}

function readDatabase(reader: EnvReader, demo: boolean, optional: boolean): DatabaseConfig {
  // The demo's GitHub is an in-memory simulator, so its database is in memory too unless asked otherwise.
  const url = reader.string('DATABASE_URL') ?? (demo || optional ? DEMO_DATABASE_URL : undefined);
  if (url === undefined) {
    // A silent embedded default would give each replica its own copy of the runners.
    reader.problem(
      'DATABASE_URL',
      'is required: postgres://USER:PASSWORD@HOST:PORT/DB for production (PostgreSQL, shared by every replica), ' +
        'or pglite://./data to ask for the embedded database in a folder (one instance only)',
    );
    return { kind: 'pglite', dataDir: undefined };
  }
  const parsed = parseDatabaseUrl(url);
  if (typeof parsed === 'string') {
    reader.problem('DATABASE_URL', parsed);
    return { kind: 'pglite', dataDir: undefined };
  }
  return parsed;
}

/** Accepts postgres://, postgresql://, pglite://PATH and pglite://memory; otherwise returns what is wrong. */
export function parseDatabaseUrl(url: string): DatabaseConfig | string {
  const alternatives = 'postgres://USER:PASSWORD@HOST:PORT/DB, postgresql://…, pglite://PATH or pglite://memory';
  const scheme = url.split(':', 1)[0]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    try {
      new URL(url);
    } catch {
      return `is not a valid URL; expected ${alternatives}`;
    }
    return { kind: 'postgres', url };
  }
  if (scheme === 'pglite') {
    const path = url.slice('pglite://'.length);
    if (path === '') return `needs a folder after pglite:// (pglite://./data) or pglite://memory`;
    return { kind: 'pglite', dataDir: path === 'memory' ? undefined : path };
  }
  if (scheme === 'sqlite') {
    return `SQLite is not supported; use ${alternatives}`;
  }
  return `has an unknown scheme "${scheme}"; expected ${alternatives}`;
}

function readAuth(reader: EnvReader, demo: boolean): AuthConfig {
  const enabled = reader.boolean('ENABLE_OIDC_AUTH', !demo);
  const policyFile = reader.string('POLICY_FILE');
  const issuer = reader.string('OIDC_ISSUER');
  const audience = reader.string('OIDC_AUDIENCE');
  const jwksUrl = reader.string('OIDC_JWKS_URL');
  // A policy file may name every trusted issuer itself; then the OIDC_* shorthand is optional, but whole.
  const shorthandWanted = enabled && (!policyFile || issuer !== undefined || audience !== undefined);
  if (shorthandWanted) {
    const required = policyFile
      ? 'required with the other OIDC_* variables'
      : 'required when ENABLE_OIDC_AUTH is true and no POLICY_FILE is set';
    if (!issuer) reader.problem('OIDC_ISSUER', `is ${required}: the issuer URL your tokens carry in "iss"`);
    if (!audience) reader.problem('OIDC_AUDIENCE', `is ${required}: the "aud" your tokens are issued for`);
  }
  if (jwksUrl) {
    reader.httpsUrl('OIDC_JWKS_URL', jwksUrl, 'anyone on the path could serve keys for forged tokens');
  } else if (enabled && issuer) {
    reader.httpsUrl(
      'OIDC_ISSUER',
      issuer,
      'without OIDC_JWKS_URL the keys are found through ISSUER/.well-known/openid-configuration, and anyone on the path could serve keys for forged tokens',
    );
  }
  return {
    enabled,
    issuer: issuer ?? '',
    audience: audience ?? '',
    jwksUrl: jwksUrl ?? '',
    userClaim: reader.string('OIDC_USER_CLAIM') ?? 'email',
    clockToleranceSeconds: reader.integer('OIDC_CLOCK_TOLERANCE_SECONDS', 30, { min: 0, max: MAX_CLOCK_TOLERANCE_SECONDS }),
    policyFile,
  };
}

/**
 * check-policy: the OIDC_* shorthand as the service would merge it with a policy file, when it is
 * set. Nothing is required, and no token is verified.
 */
function readAuthShorthand(reader: EnvReader): AuthConfig {
  return {
    enabled: false,
    issuer: reader.string('OIDC_ISSUER') ?? '',
    audience: reader.string('OIDC_AUDIENCE') ?? '',
    jwksUrl: reader.string('OIDC_JWKS_URL') ?? '',
    userClaim: reader.string('OIDC_USER_CLAIM') ?? 'email',
    clockToleranceSeconds: reader.integer('OIDC_CLOCK_TOLERANCE_SECONDS', 30, { min: 0, max: MAX_CLOCK_TOLERANCE_SECONDS }),
  };
}

function disabledAuth(): AuthConfig {
  return { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 0 };
}
