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
import {
  DATABASE_USAGE,
  JSON_USAGE,
  SIGNALS,
  TOKEN_PATH,
  checkDist,
  databaseOption,
  exitWith,
  fromDist,
  githubKinds,
  mib,
  parseCommandLine,
  positiveInt,
  printResult,
  round,
  sampleRss,
  startService,
  tearDown,
} from './support.mjs';

const REQUIRED_DIST_FILES = ['app.module.js', 'configure-app.js', 'github/simulator/github-simulator.js'];

const WARMUP_REQUESTS = 20;
const PROGRESS_EVERY = 100;
const RSS_SAMPLE_MS = 100;
/** One request may not take longer than this (the service's own GitHub timeout is 10 s). */
const REQUEST_TIMEOUT_MS = 30_000;
const REQUEST_BODY = JSON.stringify({ runner_name_prefix: 'bench', labels: ['bench', 'linux'] });
const JIT_PATH = /\/actions\/runners\/generate-jitconfig$/;

const USAGE = `Usage: node bench/jit-provision.mjs [options]   (run \`npm run build\` first)
  --requests N          measured requests (default 500)
  --concurrency N       requests in flight at once (default 8)
${DATABASE_USAGE}
  --max-seconds N       stop the run (and fail) after N seconds (default 600)
${JSON_USAGE}`;

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const values = parseCommandLine(argv, USAGE, {
    requests: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    'max-seconds': { type: 'string', default: '600' },
  });
  const { database, databaseUrl } = databaseOption(values, USAGE);
  return {
    requests: positiveInt(values, 'requests', USAGE),
    concurrency: positiveInt(values, 'concurrency', USAGE),
    maxSeconds: positiveInt(values, 'max-seconds', USAGE),
    database,
    databaseUrl,
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// The compiled service

async function loadService() {
  await import('reflect-metadata');
  const [{ NestFactory }, { AppModule }, { configureApp }, { GithubSimulator }] = await Promise.all([
    import('@nestjs/core'),
    fromDist('app.module.js'),
    fromDist('configure-app.js'),
    fromDist('github/simulator/github-simulator.js'),
  ]);
  return { NestFactory, AppModule, configureApp, GithubSimulator };
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

// ---------------------------------------------------------------------------------------------
// Output

const fmtMs = (value) => (value === null ? 'n/a' : `${value.toFixed(1)} ms`);

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
  checkDist(REQUIRED_DIST_FILES);
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

  const rss = sampleRss(RSS_SAMPLE_MS);

  const teardown = [];
  let exitCode = 0;
  try {
    const { database, simulator, app } = await startService({ NestFactory, AppModule, GithubSimulator }, options, teardown);
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
    rss.sample();

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
        requestsByKind: githubKinds(simulator.requests()),
      },
      memory: { peakRssMiB: round(mib(rss.peak), 1), startRssMiB: round(mib(rss.start), 1) },
    };
    if (warmupFailed > 0) {
      const why = Object.entries(warmup.failures).map(([outcome, n]) => `${n}x ${outcome}`).join(', ');
      process.stderr.write(`[bench] ${warmupFailed} of ${WARMUP_REQUESTS} warm-up requests failed (${why})\n`);
    }
    printResult(table(result), result, options.json);
    if (result.requests.failed > 0 || warmupFailed > 0 || stoppedEarly) exitCode = 1;
  } catch (error) {
    process.stderr.write(`[bench] failed: ${error?.stack ?? error}\n`);
    exitCode = 1;
  } finally {
    rss.stop();
    clearTimeout(deadline);
    if (!(await tearDown(teardown))) exitCode = 1;
  }
  exitWith(exitCode);
}

await main();
