#!/usr/bin/env node
/**
 * The GitHub sync over many runners: GithubSyncService.syncWithGithub against the built-in
 * GitHub simulator over HTTP, with the runners table in in-memory PGlite or PostgreSQL. A benchmark
 * with a correctness check: it exits non-zero when a sync throws or when a scenario does not change
 * the rows it should (the report's counts and the table afterwards). Times and request counts are
 * printed next to their targets, never checked.
 *
 * Runs the compiled service, so build first:
 *
 *   npm run build
 *   node bench/sync.mjs [--runners 10000] [--database pglite|postgres] [--database-url URL] [--json]
 *
 * Setup (not measured): the simulator gets N online ephemeral runners (bench-1 … bench-N), and the
 * runners table gets N matching rows (same name and GitHub id; JIT, pending, created just now),
 * inserted directly in a few multi-row statements. Then three scenarios, one sync each:
 *
 *   1. first sync    every runner online on GitHub, every row pending  -> N rows become active
 *   2. steady state  the same again right after                        -> nothing to write
 *   3. churn         5% of the runners finished their job (ephemeral: gone from GitHub) and
 *                    another 10% went offline (spread over all pages)   -> 5% deleted, 10% updated
 *                    (500 and 1,000 of 10,000)
 *
 * Per scenario: wall time of the call; where it went (listing GitHub, reading the live rows (during
 * the listing, so not added to the rest), the UPDATE statements, audit inserts, the rest: planning,
 * BEGIN/COMMIT, bookkeeping), measured by
 * timing those methods on the service's own instances; GitHub requests by kind (list pages,
 * per-runner GETs/DELETEs, installation tokens); rows updated and deleted; audit events written;
 * peak RSS of this process while it ran (service + simulator; PGlite too, PostgreSQL not), sampled
 * every 50 ms. Targets: ceil(N/100) list requests (100 at 10,000), < 10 s, and no per-runner request
 * but one GET per runner gone from the listing (the sync confirms each before marking it deleted).
 *
 * Everything runs in this one process and talks over 127.0.0.1 only; with --database postgres a
 * fresh database rts_bench_<random> is created on the server named by --database-url (default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end. The scheduler is off, so
 * every GitHub request counted is the sync's own.
 *
 * Output: a table on stdout. With --json the table goes to stderr and stdout carries exactly one
 * JSON object. Progress goes to stderr.
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

const REQUIRED_DIST_FILES = [
  'app.module.js',
  'auth/actor.js',
  'audit/audit.service.js',
  'github/github.client.js',
  'github/simulator/github-simulator.js',
  'runners/reconciliation/github-sync.service.js',
  'runners/runners.repository.js',
];

const RSS_SAMPLE_MS = 50;
/** Rows per INSERT when the table is filled. */
const INSERT_BATCH = 5_000;
const NAME_PREFIX = 'bench';
/** Every 20th runner finishes its job in the churn scenario (5%)… */
const COMPLETE_EVERY = 20;
/** …and every 10th, offset by 5, goes offline (10%); the two sets never overlap. */
const OFFLINE_EVERY = 10;
const OFFLINE_OFFSET = 5;
const TARGET_SECONDS = 10;
const RUNNERS_PER_PAGE = 100;
const LIST_PATH = /\/actions\/runners$/;
const RUNNER_PATH = /\/actions\/runners\/\d+$/;

const USAGE = `Usage: node bench/sync.mjs [options]   (run \`npm run build\` first)
  --runners N           runners on GitHub and rows in the table (default 10000)
  --page-delay-ms N     the simulator delays every answer to a list request by N ms (default 0;
                        GitHub's own latency is about 250 ms a page)
${DATABASE_USAGE}
${JSON_USAGE}`;

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const values = parseCommandLine(argv, USAGE, {
    runners: { type: 'string', default: '10000' },
    'page-delay-ms': { type: 'string', default: '0' },
  });
  const runners = positiveInt(values, 'runners', USAGE);
  const pageDelayMs = values['page-delay-ms'] === '0' ? 0 : positiveInt(values, 'page-delay-ms', USAGE);
  const { database, databaseUrl } = databaseOption(values, USAGE);
  return { runners, pageDelayMs, database, databaseUrl, json: values.json };
}

// ---------------------------------------------------------------------------------------------
// The compiled service

async function loadService() {
  await import('reflect-metadata');
  const [
    { NestFactory },
    { getDataSourceToken },
    { Logger },
    { AppModule },
    { Actor },
    { AuditService },
    { GithubClient },
    { GithubSimulator },
    { GithubSyncService },
    { RunnersRepository },
    { RunnerReconciliationRepository },
  ] = await Promise.all([
    import('@nestjs/core'),
    import('@nestjs/typeorm'),
    import('nestjs-pino'),
    fromDist('app.module.js'),
    fromDist('auth/actor.js'),
    fromDist('audit/audit.service.js'),
    fromDist('github/github.client.js'),
    fromDist('github/simulator/github-simulator.js'),
    fromDist('runners/reconciliation/github-sync.service.js'),
    fromDist('runners/runners.repository.js'),
    fromDist('runners/reconciliation/runner-reconciliation.repository.js'),
  ]);
  return {
    NestFactory,
    getDataSourceToken,
    Logger,
    AppModule,
    Actor,
    AuditService,
    GithubClient,
    GithubSimulator,
    GithubSyncService,
    RunnersRepository,
    RunnerReconciliationRepository,
  };
}

// ---------------------------------------------------------------------------------------------
// Setup

/** The service's rows for the simulator's runners: JIT, pending, ephemeral, created just now. */
async function insertRows(dataSource, runners) {
  for (let start = 0; start < runners.length; start += INSERT_BATCH) {
    const batch = runners.slice(start, start + INSERT_BATCH);
    await dataSource.query(
      `INSERT INTO runners (name, kind, status, busy, ephemeral, labels, runner_group_id, github_runner_id,
                            owner_issuer, owner_subject, owner_name)
       SELECT spec.name, 'jit', 'pending', false, true, '{self-hosted,linux,x64}', 1, spec.github_runner_id,
              'https://issuer.bench', 'bench-sub', 'bench@example.com'
         FROM unnest($1::varchar[], $2::bigint[]) AS spec(name, github_runner_id)`,
      [batch.map((runner) => runner.name), batch.map((runner) => runner.id)],
    );
  }
}

async function countByStatus(dataSource) {
  const rows = await dataSource.query(`SELECT status, count(*)::int AS n FROM runners GROUP BY status`);
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

async function countAuditEvents(dataSource) {
  const [row] = await dataSource.query(`SELECT count(*)::int AS n FROM audit_events`);
  return row.n;
}

/**
 * Times the calls a sync makes on the service's own instances (the same objects the Nest container
 * injected): the listing, reading the live rows, the UPDATEs and the audit inserts. Adds only a
 * performance.now() pair per call.
 */
function instrument(instances) {
  const totals = {};
  const wrap = (target, method, phase) => {
    const original = target[method];
    if (typeof original !== 'function') throw new Error(`no method ${method} to time`);
    target[method] = async function timed(...args) {
      const started = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        totals[phase] = (totals[phase] ?? 0) + (performance.now() - started);
      }
    };
  };
  wrap(instances.github, 'listAllRunners', 'listing');
  wrap(instances.runners, 'listLive', 'readRows');
  wrap(instances.rows, 'applyObservations', 'updateRows');
  wrap(instances.audit, 'record', 'audit');
  wrap(instances.audit, 'recordMany', 'audit');
  // Private in TypeScript, a plain method at run time: the lookups of runners missing from the list.
  wrap(instances.reconciliation, 'confirmMissing', 'confirming');
  return {
    take() {
      const taken = { ...totals };
      for (const key of Object.keys(totals)) delete totals[key];
      return taken;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Output

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

function table(result) {
  const { run, targets, scenarios } = result;
  const mark = (ok) => (ok ? 'ok' : 'MISSED');
  const line = (label, target, values) => [label, target, ...values];
  const rows = [
    line('sync time', `< ${targets.seconds} s`, scenarios.map((s) => `${seconds(s.wallMs)} ${mark(s.targets.time)}`)),
    line('  listing GitHub', '', scenarios.map((s) => seconds(s.phasesMs.listing))),
    line('  reading rows (meanwhile)', '', scenarios.map((s) => seconds(s.phasesMs.readRows))),
    line('  confirming gone runners', '', scenarios.map((s) => seconds(s.phasesMs.confirming))),
    line('  UPDATE statements', '', scenarios.map((s) => seconds(s.phasesMs.updateRows))),
    line('  audit inserts', '', scenarios.map((s) => seconds(s.phasesMs.audit))),
    line('  the rest', '', scenarios.map((s) => seconds(s.phasesMs.rest))),
    line('GitHub list requests', String(targets.listRequests), scenarios.map((s) => `${s.github.listRequests} ${mark(s.targets.listRequests)}`)),
    line('GitHub per-runner GET/DELETE', 'gone/0', scenarios.map((s) => `${s.github.perRunnerGets}/${s.github.perRunnerDeletes} ${mark(s.targets.perRunnerRequests)}`)),
    line('GitHub token requests', '', scenarios.map((s) => String(s.github.tokenRequests))),
    line('rows updated (expected)', '', scenarios.map((s) => `${s.report.updated} (${s.expected.updated})`)),
    line('rows deleted (expected)', '', scenarios.map((s) => `${s.report.deleted} (${s.expected.deleted})`)),
    line('rows checked / skipped', '', scenarios.map((s) => `${s.report.checked} / ${s.report.skipped}`)),
    line('audit events written', '', scenarios.map((s) => String(s.auditEvents))),
    line('correct', '', scenarios.map((s) => (s.problems.length === 0 ? 'yes' : 'NO'))),
    line('peak RSS', '', scenarios.map((s) => `${s.peakRssMiB.toFixed(0)} MiB`)),
  ];
  const all = [['', 'target', ...scenarios.map((s) => s.name)], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const render = (row) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`;
  const problems = scenarios.flatMap((s) => s.problems.map((p) => `  ${s.name}: ${p}`));
  return [
    `GitHub sync bench (node ${run.node}, ${run.cpus} CPUs)`,
    `  database ${run.database}; ${run.runners} runners on GitHub and in the table`,
    `  setup: simulator ${seconds(run.setupMs.simulator)}, table filled in ${seconds(run.setupMs.insert)}`,
    render(all[0]),
    ...rows.map(render),
    ...(problems.length > 0 ? ['WRONG:', ...problems] : []),
  ].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  checkDist(REQUIRED_DIST_FILES);
  const service = await loadService();
  const { availableParallelism } = await import('node:os');

  // Ctrl-C: a sync cannot be cut short, so the one under way finishes; then everything is torn down.
  let stopped = null;
  const onSignal = (signal) => {
    if (stopped) {
      process.stderr.write(`[bench] ${signal} again: exiting without teardown\n`);
      process.exit(130);
    }
    stopped = `interrupted by ${signal}`;
    process.stderr.write(`[bench] ${signal}: stopping after the current step\n`);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const checkStopped = () => {
    if (stopped) throw Object.assign(new Error(stopped), { interrupted: true });
  };

  const rss = sampleRss(RSS_SAMPLE_MS);

  const teardown = [];
  let exitCode = 0;
  try {
    const { database, simulator, app } = await startService(service, options, teardown);
    // The service's own logger (pino, into DiscardLines), as configureApp sets it; the rest of configureApp
    // is HTTP (not used here) and shutdown hooks (the bench tears down itself, the database last).
    app.useLogger(app.get(service.Logger));
    await app.init();
    const dataSource = app.get(service.getDataSourceToken());
    const reconciliation = app.get(service.GithubSyncService);
    const timings = instrument({
      github: app.get(service.GithubClient),
      runners: app.get(service.RunnersRepository),
      rows: app.get(service.RunnerReconciliationRepository),
      audit: app.get(service.AuditService),
      reconciliation,
    });
    const actor = service.Actor.system('bench');

    // Setup: N runners on GitHub, N matching rows here.
    const n = options.runners;
    let started = performance.now();
    if (options.pageDelayMs > 0) simulator.injectFault({ method: 'GET', path: LIST_PATH, delayMs: options.pageDelayMs });
    const onGithub = simulator.addRunners(n, { namePrefix: NAME_PREFIX, status: 'online', os: 'linux', busy: false, ephemeral: true });
    const simulatorMs = performance.now() - started;
    started = performance.now();
    await insertRows(dataSource, onGithub);
    const insertMs = performance.now() - started;
    process.stderr.write(`[bench] ${n} runners on the simulator, ${n} rows inserted in ${seconds(insertMs)}\n`);
    checkStopped();

    const completed = onGithub.filter((_, i) => i % COMPLETE_EVERY === 0);
    const wentOffline = onGithub.filter((_, i) => i % OFFLINE_EVERY === OFFLINE_OFFSET);
    const targets = {
      listRequests: Math.max(1, Math.ceil(n / RUNNERS_PER_PAGE)),
      seconds: TARGET_SECONDS,
    };
    const scenarios = [
      {
        name: 'first sync',
        prepare: () => undefined,
        expected: { githubRunners: n, updated: n, deleted: 0, statuses: { active: n } },
      },
      {
        name: 'steady state',
        prepare: () => undefined,
        expected: { githubRunners: n, updated: 0, deleted: 0, statuses: { active: n } },
      },
      {
        name: 'churn',
        prepare: () => {
          for (const runner of completed) simulator.completeJob(runner.id);
          for (const runner of wentOffline) simulator.setRunnerStatus(runner.id, { status: 'offline', busy: false });
        },
        expected: {
          githubRunners: n - completed.length,
          updated: wentOffline.length,
          deleted: completed.length,
          statuses: {
            active: n - completed.length - wentOffline.length,
            offline: wentOffline.length,
            deleted: completed.length,
          },
        },
      },
    ];

    const results = [];
    for (const scenario of scenarios) {
      checkStopped();
      scenario.prepare();
      const requestsBefore = simulator.requests().length;
      const auditBefore = await countAuditEvents(dataSource);
      timings.take();
      rss.reset();
      process.stderr.write(`[bench] ${scenario.name}: syncing\n`);

      started = performance.now();
      const report = await reconciliation.syncWithGithub(actor, {
        onProgress: (message) => {
          process.stderr.write(`[bench] ${scenario.name}: ${message} (${seconds(performance.now() - started)})\n`);
        },
      });
      const wallMs = performance.now() - started;
      rss.sample();
      const phases = timings.take();

      const requests = simulator.requests().slice(requestsBefore);
      const github = {
        listRequests: requests.filter((r) => r.method === 'GET' && LIST_PATH.test(r.path)).length,
        perRunnerRequests: requests.filter((r) => RUNNER_PATH.test(r.path)).length,
        perRunnerGets: requests.filter((r) => r.method === 'GET' && RUNNER_PATH.test(r.path)).length,
        perRunnerDeletes: requests.filter((r) => r.method === 'DELETE' && RUNNER_PATH.test(r.path)).length,
        tokenRequests: requests.filter((r) => r.method === 'POST' && TOKEN_PATH.test(r.path)).length,
        requestsByKind: githubKinds(requests),
      };
      const statuses = await countByStatus(dataSource);
      const auditEvents = (await countAuditEvents(dataSource)) - auditBefore;

      const problems = [];
      const { expected } = scenario;
      if (report.updated !== expected.updated) problems.push(`${report.updated} updated, expected ${expected.updated}`);
      if (report.deleted !== expected.deleted) problems.push(`${report.deleted} deleted, expected ${expected.deleted}`);
      if (report.skipped !== 0) problems.push(`${report.skipped} skipped, expected 0`);
      if (report.github_runners !== expected.githubRunners) {
        problems.push(`${report.github_runners} runners listed on GitHub, expected ${expected.githubRunners}`);
      }
      for (const status of new Set([...Object.keys(expected.statuses), ...Object.keys(statuses)])) {
        const want = expected.statuses[status] ?? 0;
        const have = statuses[status] ?? 0;
        if (want !== have) problems.push(`${have} rows ${status} in the table, expected ${want}`);
      }

      // The rows are read while GitHub is listed: that time is inside the listing's, not added to it.
      const known = (phases.listing ?? 0) + (phases.confirming ?? 0) + (phases.updateRows ?? 0) + (phases.audit ?? 0);
      const result = {
        name: scenario.name,
        wallMs: round(wallMs, 1),
        phasesMs: {
          listing: round(phases.listing ?? 0, 1),
          readRows: round(phases.readRows ?? 0, 1),
          confirming: round(phases.confirming ?? 0, 1),
          updateRows: round(phases.updateRows ?? 0, 1),
          audit: round(phases.audit ?? 0, 1),
          rest: round(Math.max(0, wallMs - known), 1),
        },
        github,
        report: { ...report, changes: report.changes.length },
        expected,
        statuses,
        auditEvents,
        peakRssMiB: round(mib(rss.peak), 1),
        targets: {
          time: wallMs < TARGET_SECONDS * 1000,
          listRequests: github.listRequests <= targets.listRequests,
          // One GET per runner gone (its confirmation), nothing else per runner.
          perRunnerRequests: github.perRunnerGets === expected.deleted && github.perRunnerDeletes === 0,
        },
        problems,
      };
      results.push(result);
      process.stderr.write(
        `[bench] ${scenario.name}: ${seconds(wallMs)}, ${report.updated} updated, ${report.deleted} deleted` +
          `${problems.length > 0 ? ` - WRONG: ${problems.join('; ')}` : ''}\n`,
      );
    }

    const result = {
      run: {
        database: database.label,
        runners: n,
        pageDelayMs: options.pageDelayMs,
        churn: { completedJobs: completed.length, wentOffline: wentOffline.length },
        node: process.versions.node,
        cpus: availableParallelism(),
        setupMs: { simulator: round(simulatorMs, 1), insert: round(insertMs, 1) },
      },
      targets,
      scenarios: results,
      correct: results.every((s) => s.problems.length === 0),
    };
    printResult(table(result), result, options.json);
    if (!result.correct) exitCode = 1;
  } catch (error) {
    process.stderr.write(error?.interrupted ? `[bench] stopped: ${error.message}\n` : `[bench] failed: ${error?.stack ?? error}\n`);
    exitCode = 1;
  } finally {
    rss.stop();
    if (!(await tearDown(teardown))) exitCode = 1;
  }
  exitWith(exitCode);
}

await main();
