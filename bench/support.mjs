/**
 * What the benchmarks in bench/ share: command-line handling, the compiled service in dist/, a throwaway
 * database, the service's configuration, RSS sampling, teardown and a few output helpers. Not a
 * benchmark itself; each bench/*.mjs script imports what it needs from here.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = new URL('../dist/', import.meta.url);

export const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const TOKEN_PATH = /\/access_tokens$/;
/** Each teardown step (app, simulator, database) gets at most this long. */
const TEARDOWN_STEP_MS = 15_000;

/** The usage lines for the options every bench takes; each script puts its own around them. */
export const DATABASE_USAGE = `  --database KIND       pglite (in-memory, default) or postgres
  --database-url URL    PostgreSQL server for --database postgres (default ${DEFAULT_DATABASE_URL});
                        a fresh database is created on it and dropped at the end`;
export const JSON_USAGE = `  --json                print one JSON object on stdout (the table then goes to stderr)
  --help`;

// ---------------------------------------------------------------------------------------------
// Options

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/**
 * parseArgs with the options every bench takes (--database, --database-url, --json, --help) next to the
 * script's own; prints the usage and exits on --help (0) or on an unknown or malformed option (2).
 */
export function parseCommandLine(argv, usage, options) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...options,
        database: { type: 'string', default: 'pglite' },
        'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail(`${error.message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return values;
}

export function positiveInt(values, name, usage) {
  const text = values[name];
  if (!/^\d+$/.test(text) || Number(text) < 1) fail(`--${name} must be a positive integer, got "${text}"\n${usage}`);
  return Number(text);
}

/** --database and, for postgres, a checked --database-url (undefined for pglite). */
export function databaseOption(values, usage) {
  const database = values.database;
  if (database !== 'pglite' && database !== 'postgres') fail(`--database must be pglite or postgres, got "${database}"\n${usage}`);
  let databaseUrl;
  if (database === 'postgres') {
    try {
      databaseUrl = new URL(values['database-url']);
    } catch {
      fail(`--database-url is not a URL: "${values['database-url']}"`);
    }
    if (!/^postgres(ql)?:$/.test(databaseUrl.protocol)) fail('--database-url must be a postgres:// URL');
  }
  return { database, databaseUrl };
}

// ---------------------------------------------------------------------------------------------
// The compiled service

/**
 * Exits when one of `requiredFiles` is not in dist/; when src/ is newer than the build, warns, or
 * exits too with `stopWhenStale` (the suite: its numbers must be those of the code in src/).
 */
export function checkDist(requiredFiles, { stopWhenStale = false } = {}) {
  const missing = requiredFiles.filter((file) => !existsSync(new URL(file, DIST)));
  if (missing.length > 0) {
    fail(`dist/ is missing or incomplete (no dist/${missing[0]}): run \`npm run build\` first, then run this again.`);
  }
  // A hint only: src/ newer than dist/ means the numbers are for older code.
  const newest = (dir, ext) => {
    let latest = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isFile() && entry.name.endsWith(ext)) {
        latest = Math.max(latest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
      }
    }
    return latest;
  };
  let stale = false;
  try {
    stale = newest(`${ROOT}src`, '.ts') > newest(fileURLToPath(DIST), '.js');
  } catch {
    // No src/ next to dist/ (a deployed copy): nothing to compare.
  }
  if (stale && stopWhenStale) fail('dist/ is older than src/: run `npm run build` first, then run this again.');
  if (stale) process.stderr.write('note: src/ has changed since the last build; run `npm run build` to bench the current code\n');
}

/** A module of the compiled service, by its path below dist/ (e.g. 'app.module.js'). */
export function fromDist(file) {
  return import(new URL(file, DIST).href);
}

/** Log lines go nowhere: the bench measures the service, not a terminal. */
class DiscardLines extends Writable {
  _write(_chunk, _encoding, done) {
    done();
  }
}

async function adminQuery(serverUrl, sql) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: serverUrl.toString(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database for the run: in-memory PGlite, or a new database on the PostgreSQL server. */
async function prepareDatabase(options) {
  if (options.database === 'pglite') {
    return { config: { kind: 'pglite', dataDir: undefined }, label: 'pglite (in memory)', drop: async () => undefined };
  }
  const name = `rts_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(options.databaseUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(options.databaseUrl);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'postgres', url: url.toString() },
    label: `postgres (${options.databaseUrl.host}, database ${name})`,
    name,
    drop: () => adminQuery(options.databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

function appConfig(simulator, database, githubLimits) {
  return {
    app: { port: 0, host: '127.0.0.1', logLevel: 'warn', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0 },
    metrics: {},
    database,
    auth: { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 0 },
    github: {
      ...simulator.connectionSettings(),
      runnerGroupId: 1,
      systemLabels: ['self-hosted', 'linux', 'x64'],
      requestTimeoutMs: 10_000,
      // The service's default GITHUB_MAX_CONCURRENCY.
      maxConcurrency: githubLimits.maxConcurrency,
      // The benchmark measures the service: no per-minute cap on JIT configs (GitHub's is about 180).
      jitConfigPerMinute: 0,
      simulated: true,
    },
    runners: {
      registrationTokensEnabled: true,
      pendingGraceMinutes: 60,
      staleRunnerHours: 24,
      jitStartTimeoutMinutes: 60,
      knownRunnerNames: [],
      foreignRunners: 'report',
    },
    // No background sync: the benchmark counts every GitHub request it causes.
    scheduler: { enabled: false, syncIntervalSeconds: 120, cleanupIntervalMinutes: 60 },
    // The benchmark sends bursts from one address and one identity on purpose.
    rateLimit: { perIpPerMinute: 0, perIdentityPerMinute: 0 },
  };
}

/**
 * The database, the GitHub simulator and the (not yet initialised) Nest app, in that order; each one's
 * stop step goes onto `teardown` as soon as it exists, so a failure halfway still tears down what started.
 */
export async function startService({ NestFactory, AppModule, GithubSimulator }, options, teardown) {
  const database = await prepareDatabase(options);
  teardown.push([`the database${database.name ? ` ${database.name}` : ''}`, database.drop]);
  const simulator = await GithubSimulator.start();
  teardown.push(['the GitHub simulator', () => simulator.stop()]);
  // Runs larger than GitHub's hourly budget (5,000 requests) measure the service, not the budget.
  simulator.setRateLimit({ limit: 1_000_000 });

  const { DEFAULT_GITHUB_LIMITS } = await fromDist('config/github-config.loader.js');
  const config = appConfig(simulator, database.config, DEFAULT_GITHUB_LIMITS);
  const app = await NestFactory.create(
    AppModule.forRoot(config, { schema: 'migrate', logDestination: new DiscardLines() }),
    { bufferLogs: true, abortOnError: false },
  );
  teardown.push(['the app', () => app.close()]);
  return { database, simulator, app };
}

/** The simulator's requests counted by method and path, with ids and names replaced by placeholders. */
export function githubKinds(requests) {
  const kinds = {};
  for (const request of requests) {
    const path = request.path
      .replace(/^\/app\/installations\/[^/]+\//, '/app/installations/{installation_id}/')
      .replace(/^\/orgs\/[^/]+\//, '/orgs/{org}/')
      .replace(/\/runners\/\d+$/, '/runners/{runner_id}');
    const kind = `${request.method} ${path}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

// ---------------------------------------------------------------------------------------------
// Memory and teardown

/**
 * This process's RSS: `start` when called, `peak` the highest seen since (or since reset()), sampled
 * every `everyMs` and whenever sample() is called. The timer does not keep the process alive.
 */
export function sampleRss(everyMs) {
  const rss = () => process.memoryUsage().rss;
  const start = rss();
  const sampler = {
    start,
    peak: start,
    sample() {
      sampler.peak = Math.max(sampler.peak, rss());
    },
    reset() {
      sampler.peak = rss();
    },
    stop() {
      clearInterval(timer);
    },
  };
  const timer = setInterval(sampler.sample, everyMs);
  timer.unref();
  return sampler;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs the [what, step] pairs in reverse order of start: the app (it holds database connections), the
 * simulator, the database. Reports each step that fails or hangs and goes on; false if any did.
 */
export async function tearDown(teardown) {
  let ok = true;
  for (const [what, step] of [...teardown].reverse()) {
    try {
      await withTimeout(Promise.resolve().then(step), TEARDOWN_STEP_MS, `stopping ${what}`);
    } catch (error) {
      process.stderr.write(`[bench] could not stop ${what}: ${error?.message ?? error}\n`);
      ok = false;
    }
  }
  return ok;
}

/** Sets the exit code and makes sure the process ends with it. */
export function exitWith(exitCode) {
  process.exitCode = exitCode;
  // Whatever still holds the event loop open (a stray socket) must not keep the bench running.
  setTimeout(() => process.exit(exitCode), 5_000).unref();
}

// ---------------------------------------------------------------------------------------------
// Output

export const round = (value, digits = 1) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
export const mib = (bytes) => bytes / (1024 * 1024);

/** The table on stdout; with --json the table on stderr and exactly one JSON object on stdout. */
export function printResult(text, result, json) {
  if (json) {
    process.stderr.write(text);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(text);
  }
}
