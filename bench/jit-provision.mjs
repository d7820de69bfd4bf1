#!/usr/bin/env node
/**
 * JIT provisioning, end to end: HTTP -> Nest service -> database (in-memory PGlite or PostgreSQL)
 * -> the built-in GitHub simulator over HTTP. A benchmark, not a test: it prints numbers and
 * checks nothing about them; it exits non-zero only when a request failed (or the run was cut short).
 *
 * Runs the compiled service, so build first:
 *
 *   npm run build
 *   node bench/jit-provision.mjs [--requests 500] [--concurrency 8]
 *                                [--database pglite|postgres] [--database-url URL]
 *                                [--max-seconds 600] [--json]
 *
 * Everything runs in this one process (the service, the simulator and the load generator) and talks
 * over 127.0.0.1 only; with --database postgres a fresh database rts_bench_<random> is created on the
 * server named by --database-url (default postgres://postgres@127.0.0.1:5432/postgres) and dropped
 * at the end. OIDC is off, so every request is the same anonymous caller.
 *
 * Each request is POST /api/v1/runners/jit {"runner_name_prefix":"bench","labels":["bench","linux"]};
 * success is status 201 with an encoded_jit_config. 20 warm-up requests run first and are not measured.
 * Latency is per request, from sending it to having read the whole answer; percentiles are nearest-rank.
 * Peak RSS is this process's (service + simulator + client; PGlite too, PostgreSQL not), sampled every 100 ms.
 *
 * Output: a short table on stdout. With --json the table goes to stderr and stdout carries exactly one
 * JSON object. Progress goes to stderr every 100 measured requests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = new URL('../dist/', import.meta.url);
const REQUIRED_DIST_FILES = ['app.module.js', 'configure-app.js', 'github/simulator/github-simulator.js'];

const WARMUP_REQUESTS = 20;
const PROGRESS_EVERY = 100;
const RSS_SAMPLE_MS = 100;
/** One request may not take longer than this (the service's own GitHub timeout is 10 s). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Each teardown step (app, simulator, database) gets at most this long. */
const TEARDOWN_STEP_MS = 15_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUEST_BODY = JSON.stringify({ runner_name_prefix: 'bench', labels: ['bench', 'linux'] });
const TOKEN_PATH = /\/access_tokens$/;
const JIT_PATH = /\/actions\/runners\/generate-jitconfig$/;

const USAGE = `Usage: node bench/jit-provision.mjs [options]   (run \`npm run build\` first)
  --requests N          measured requests (default 500)
  --concurrency N       requests in flight at once (default 8)
  --database KIND       pglite (in-memory, default) or postgres
  --database-url URL    PostgreSQL server for --database postgres (default ${DEFAULT_DATABASE_URL});
                        a fresh database is created on it and dropped at the end
  --max-seconds N       stop the run (and fail) after N seconds (default 600)
  --json                print one JSON object on stdout (the table then goes to stderr)
  --help`;

// ---------------------------------------------------------------------------------------------
// Options

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        requests: { type: 'string', default: '500' },
        concurrency: { type: 'string', default: '8' },
        database: { type: 'string', default: 'pglite' },
        'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
        'max-seconds': { type: 'string', default: '600' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const positiveInt = (name) => {
    const text = values[name];
    if (!/^\d+$/.test(text) || Number(text) < 1) fail(`--${name} must be a positive integer, got "${text}"\n${USAGE}`);
    return Number(text);
  };
  const database = values.database;
  if (database !== 'pglite' && database !== 'postgres') fail(`--database must be pglite or postgres, got "${database}"\n${USAGE}`);
  let databaseUrl;
  if (database === 'postgres') {
    try {
      databaseUrl = new URL(values['database-url']);
    } catch {
      fail(`--database-url is not a URL: "${values['database-url']}"`);
    }
    if (!/^postgres(ql)?:$/.test(databaseUrl.protocol)) fail('--database-url must be a postgres:// URL');
  }
  return {
    requests: positiveInt('requests'),
    concurrency: positiveInt('concurrency'),
    maxSeconds: positiveInt('max-seconds'),
    database,
    databaseUrl,
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// The compiled service

function checkDist() {
  const missing = REQUIRED_DIST_FILES.filter((file) => !existsSync(new URL(file, DIST)));
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
  try {
    if (newest(`${ROOT}src`, '.ts') > newest(fileURLToPath(DIST), '.js')) {
      process.stderr.write('note: src/ has changed since the last build; run `npm run build` to bench the current code\n');
    }
  } catch {
    // No src/ next to dist/ (a deployed copy): nothing to compare.
  }
}

async function loadService() {
  await import('reflect-metadata');
  const [{ NestFactory }, { AppModule }, { configureApp }, { GithubSimulator }] = await Promise.all([
    import('@nestjs/core'),
    import(new URL('app.module.js', DIST).href),
    import(new URL('configure-app.js', DIST).href),
    import(new URL('github/simulator/github-simulator.js', DIST).href),
  ]);
  return { NestFactory, AppModule, configureApp, GithubSimulator };
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

function appConfig(simulator, database) {
  return {
    app: { port: 0, host: '127.0.0.1', logLevel: 'warn', prettyLogs: false, demo: false, trustProxy: false },
    database,
    auth: { enabled: false, issuer: '', audience: '', jwksUrl: '', userClaim: 'email', clockToleranceSeconds: 0 },
    github: {
      ...simulator.connectionSettings(),
      runnerGroupId: 1,
      systemLabels: ['self-hosted', 'linux', 'x64'],
      requestTimeoutMs: 10_000,
      simulated: true,
    },
    runners: { registrationTokensEnabled: true, pendingGraceMinutes: 60, staleRunnerHours: 24 },
    // No background sync: the benchmark counts every GitHub request it causes.
    scheduler: { enabled: false, syncIntervalSeconds: 120, cleanupIntervalMinutes: 60 },
  };
}

// ---------------------------------------------------------------------------------------------
// Load

/** One POST; resolves to { ms, outcome } where outcome is 'ok' or why it failed (status or error). */
async function provisionOnce(url, stopSignal) {
  const started = performance.now();
  let outcome;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: REQUEST_BODY,
      signal: AbortSignal.any([stopSignal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    const text = await response.text();
    if (response.status !== 201) outcome = String(response.status);
    else outcome = text.includes('"encoded_jit_config"') ? 'ok' : '201 without encoded_jit_config';
  } catch (error) {
    outcome = error?.name === 'TimeoutError' ? 'timeout' : stopSignal.aborted ? 'stopped' : `error ${error?.cause?.code ?? error?.name ?? 'unknown'}`;
  }
  return { ms: performance.now() - started, outcome };
}

/** `count` requests with at most `concurrency` in flight; stops early when stopSignal aborts. */
async function drive(url, count, concurrency, stopSignal, onDone) {
  const latencies = [];
  const failures = {};
  let issued = 0;
  let done = 0;
  const worker = async () => {
    while (issued < count && !stopSignal.aborted) {
      issued += 1;
      const { ms, outcome } = await provisionOnce(url, stopSignal);
      done += 1;
      if (outcome === 'ok') latencies.push(ms);
      else failures[outcome] = (failures[outcome] ?? 0) + 1;
      onDone?.(done, failures);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latencies, failures, done };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function githubKinds(simulator) {
  const kinds = {};
  for (const request of simulator.requests()) {
    const path = request.path
      .replace(/^\/app\/installations\/[^/]+\//, '/app/installations/{installation_id}/')
      .replace(/^\/orgs\/[^/]+\//, '/orgs/{org}/')
      .replace(/\/runners\/\d+$/, '/runners/{runner_id}');
    const kind = `${request.method} ${path}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Output

const round = (value, digits = 1) => (value === null ? null : Number(value.toFixed(digits)));
const fmtMs = (value) => (value === null ? 'n/a' : `${value.toFixed(1)} ms`);
const mib = (bytes) => bytes / (1024 * 1024);

function table(result) {
  const { run, requests, latencyMs, github, memory } = result;
  const failed = Object.entries(requests.failuresByOutcome).map(([outcome, n]) => `${n}x ${outcome}`).join(', ');
  const tokenNote = github.tokenRequests === 1 ? 'as expected' : 'EXPECTED 1';
  const rows = [
    ['database', run.database],
    ['requests', `${run.requests} measured (+${run.warmupRequests} warm-up), concurrency ${run.concurrency}`],
    ['ok / failed', `${requests.ok} / ${requests.failed}${failed ? ` (${failed})` : ''}${run.stoppedEarly ? ` - STOPPED EARLY: ${run.stoppedEarly}` : ''}`],
    ['wall time', `${result.wallTimeSeconds.toFixed(2)} s`],
    ['throughput', `${result.requestsPerSecond.toFixed(1)} req/s`],
    ['latency p50', fmtMs(latencyMs.p50)],
    ['latency p95', fmtMs(latencyMs.p95)],
    ['latency p99', fmtMs(latencyMs.p99)],
    ['latency max', fmtMs(latencyMs.max)],
    ['GitHub token requests', `${github.tokenRequests} for the whole run (${tokenNote})`],
    ['GitHub generate-jitconfig', `${github.jitConfigRequests} (${github.jitConfigRequestsMeasured} measured)`],
    ...Object.entries(github.requestsByKind).map(([kind, n], i) => [i === 0 ? 'GitHub requests by kind' : '', `${n}  ${kind}`]),
    ['peak RSS', `${memory.peakRssMiB.toFixed(1)} MiB (start ${memory.startRssMiB.toFixed(1)} MiB; one process: service + simulator + client)`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const title = `JIT provisioning bench (node ${process.versions.node})`;
  return [title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  checkDist();
  const { NestFactory, AppModule, configureApp, GithubSimulator } = await loadService();

  // Ctrl-C or the --max-seconds deadline: stop issuing, abort what is in flight, tear everything down.
  const stop = new AbortController();
  let stoppedEarly = null;
  const stopRun = (why) => {
    if (stop.signal.aborted) return;
    stoppedEarly = why;
    process.stderr.write(`[bench] stopping: ${why}\n`);
    stop.abort(new Error(why));
  };
  const onSignal = (signal) => {
    if (stop.signal.aborted) {
      process.stderr.write(`[bench] ${signal} again: exiting without teardown\n`);
      process.exit(130);
    }
    stopRun(`interrupted by ${signal}`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const deadline = setTimeout(() => stopRun(`--max-seconds ${options.maxSeconds} reached`), options.maxSeconds * 1000);
  deadline.unref();

  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, RSS_SAMPLE_MS);
  sampler.unref();

  const teardown = [];
  let exitCode = 0;
  try {
    const database = await prepareDatabase(options);
    teardown.push([`the database${database.name ? ` ${database.name}` : ''}`, database.drop]);
    const simulator = await GithubSimulator.start();
    teardown.push(['the GitHub simulator', () => simulator.stop()]);

    const config = appConfig(simulator, database.config);
    const app = await NestFactory.create(
      AppModule.forRoot(config, { schema: 'migrate', logDestination: new DiscardLines() }),
      { bufferLogs: true, abortOnError: false },
    );
    teardown.push(['the app', () => app.close()]);
    // configureApp turns on Nest's shutdown hooks, which on SIGINT/SIGTERM/SIGHUP close the app and then raise
    // the signal again. The bench tears down itself (the database last), so it takes those listeners off.
    const ownListeners = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
    configureApp(app);
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!ownListeners.get(signal).includes(listener)) process.removeListener(signal, listener);
      }
    }
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();
    const url = `http://127.0.0.1:${port}/api/v1/runners/jit`;

    const warmup = await drive(url, WARMUP_REQUESTS, options.concurrency, stop.signal);
    const jitBefore = simulator.requestCount('POST', JIT_PATH);

    const started = performance.now();
    const measured = await drive(url, options.requests, options.concurrency, stop.signal, (done, failures) => {
      if (done % PROGRESS_EVERY === 0 || done === options.requests) {
        const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
        const seconds = (performance.now() - started) / 1000;
        process.stderr.write(`[bench] ${done}/${options.requests} requests, ${failed} failed, ${seconds.toFixed(1)} s\n`);
      }
    });
    const wallMs = performance.now() - started;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const sorted = [...measured.latencies].sort((a, b) => a - b);
    const failedCount = Object.values(measured.failures).reduce((sum, n) => sum + n, 0);
    const warmupFailed = Object.values(warmup.failures).reduce((sum, n) => sum + n, 0);
    const notRun = options.requests - measured.done;
    if (notRun > 0) measured.failures['not run'] = notRun;
    const result = {
      run: {
        database: database.label,
        requests: options.requests,
        concurrency: options.concurrency,
        warmupRequests: WARMUP_REQUESTS,
        warmupFailed,
        stoppedEarly,
        node: process.versions.node,
      },
      requests: { ok: measured.latencies.length, failed: failedCount + notRun, failuresByOutcome: measured.failures },
      wallTimeSeconds: round(wallMs / 1000, 3),
      requestsPerSecond: round(measured.latencies.length / (wallMs / 1000), 1),
      latencyMs: {
        p50: round(percentile(sorted, 50), 2),
        p95: round(percentile(sorted, 95), 2),
        p99: round(percentile(sorted, 99), 2),
        max: round(sorted.at(-1) ?? null, 2),
        mean: round(sorted.length ? sorted.reduce((sum, v) => sum + v, 0) / sorted.length : null, 2),
      },
      github: {
        tokenRequests: simulator.requestCount('POST', TOKEN_PATH),
        jitConfigRequests: simulator.requestCount('POST', JIT_PATH),
        jitConfigRequestsMeasured: simulator.requestCount('POST', JIT_PATH) - jitBefore,
        requestsByKind: githubKinds(simulator),
      },
      memory: { peakRssMiB: round(mib(peakRss), 1), startRssMiB: round(mib(startRss), 1) },
    };
    if (warmupFailed > 0) {
      const why = Object.entries(warmup.failures).map(([outcome, n]) => `${n}x ${outcome}`).join(', ');
      process.stderr.write(`[bench] ${warmupFailed} of ${WARMUP_REQUESTS} warm-up requests failed (${why})\n`);
    }
    if (options.json) {
      process.stderr.write(table(result));
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(table(result));
    }
    if (result.requests.failed > 0 || warmupFailed > 0 || stoppedEarly) exitCode = 1;
  } catch (error) {
    process.stderr.write(`[bench] failed: ${error?.stack ?? error}\n`);
    exitCode = 1;
  } finally {
    clearInterval(sampler);
    clearTimeout(deadline);
    // In reverse order of start: the app (it holds database connections), the simulator, the database.
    for (const [what, step] of teardown.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(step), TEARDOWN_STEP_MS, `stopping ${what}`);
      } catch (error) {
        process.stderr.write(`[bench] could not stop ${what}: ${error?.message ?? error}\n`);
        exitCode = 1;
      }
    }
  }
  process.exitCode = exitCode;
  // Whatever still holds the event loop open (a stray socket) must not keep the bench running.
  setTimeout(() => process.exit(exitCode), 5_000).unref();
}

await main();
