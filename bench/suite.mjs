#!/usr/bin/env node
/**
 * `npm run bench`: the service's performance targets, each judged side by side with its reference in
 * the same run. Builds nothing: it stops when dist/ is missing or older than src/ (run `npm run build`).
 *
 * What runs, each in its own process, all on 127.0.0.1 with ephemeral ports:
 *   - the built service (node dist/main.js) on PostgreSQL, in a fresh database rts_bench_<random>
 *     created (and migrated with `cli.js init-db`) on the server of BENCH_DATABASE_URL (default
 *     postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end; OIDC on, logs at info;
 *   - the same service with OIDC off (the listing's "authentication off" scenario);
 *   - the GitHub simulator (dist/github/simulator/standalone.js);
 *   - a bare NestJS + Express app answering a constant (bench/bare-app.mjs): the reference point;
 *   - the demo (node dist/main.js --demo, PGlite in memory) for its memory only;
 * and, in this process, a JWKS issuer whose keys sign the callers' tokens, and autocannon as the load.
 * The sync scenarios are bench/sync.mjs, called with --json.
 *
 * Scenarios that are judged against another one alternate with it (A B A B A B), so a ratio is made of
 * measurements a few seconds apart and holds on a machine shared with other work; the table shows the
 * median ratio and its spread (lowest–highest round).
 *
 * Output: one table on stdout; the same as JSON in bench/results/latest.json, "met": true|false per
 * scenario. Exit code 0 when the run completed (met or not), 1 when it failed, 2 on a bad start.
 *
 * Options (environment): BENCH_DATABASE_URL, BENCH_ROUNDS (default 3), BENCH_SECONDS (per measured
 * slice, default 5), BENCH_CPU_PROF=<dir> (runs both services under node --cpu-prof, profiles there),
 * BENCH_ONLY=<groups> (comma-separated, of listing, jit, memory, startup, sync, demo, policy: run only those; for
 * profiling and for trying a change, never for the table in the README), BENCH_NODE_ARGS=<flags> (node flags
 * for the service, e.g. "--max-semi-space-size=4"; also only for trying a change).
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { checkDist, DEFAULT_DATABASE_URL, githubKinds, round } from './support.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = new URL('./results/latest.json', import.meta.url);
const REQUIRED_DIST_FILES = ['main.js', 'cli.js', 'github/simulator/standalone.js'];

const GROUPS = ['listing', 'jit', 'memory', 'startup', 'sync', 'demo', 'policy'];
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
for (const group of ONLY) if (!GROUPS.includes(group)) fail(`BENCH_ONLY: unknown group "${group}" (one of ${GROUPS.join(', ')})`);
const only = (group) => ONLY.length === 0 || ONLY.includes(group);
const ROUNDS = positive('BENCH_ROUNDS', 3);
const SLICE_SECONDS = positive('BENCH_SECONDS', 5);
const CONNECTIONS = 32;
const OWNED_ROWS = 50;
const TOTAL_ROWS = 10_000;
const OTHER_OWNERS = 99;
const GITHUB_LATENCY_MS = 300;
const SYNC_PAGE_LATENCY_MS = 250;
const MEMORY_FIRST = 20_000;
const MEMORY_SECOND = 100_000;
const MEMORY_TOP_UP_SECONDS = 300;
const MIXED_BATCH = 10_000;
const DEMO_JITS = 1_000;
const STARTS = 3;
const AUDIENCE = 'runner-token-service-bench';
const SYSTEM_LABELS = ['self-hosted', 'linux', 'x64'];
const JIT_BODY = JSON.stringify({ runner_name_prefix: 'bench', labels: ['bench'] });
const LIST_PATH = '/api/v1/runners';
const JIT_PATH = '/api/v1/runners/jit';
/** Extra node flags for the service processes, for trying a setting (never for the README's table). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

function positive(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) fail(`${name} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

function fail(message, code = 2) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const say = (line) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

// ---------------------------------------------------------------------------------------------
// Processes

const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose stdout lines are kept (until `keep` is false); stderr is shown on failure. */
function start(name, args, { env = {}, cwd = ROOT, quiet = false } = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', quiet ? 'ignore' : 'pipe', 'pipe'],
  });
  const proc = { name, child, lines: [], stderr: '', exited: false };
  if (!quiet) {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop();
      if (proc.lines.length < 200) proc.lines.push(...parts);
    });
  }
  child.stderr.on('data', (chunk) => {
    if (proc.stderr.length < 20_000) proc.stderr += chunk;
  });
  proc.done = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exited = true;
      resolve({ code, signal });
    });
  });
  children.push(proc);
  return proc;
}

async function stop(proc) {
  if (proc.exited) return;
  proc.child.kill('SIGTERM');
  const ended = await Promise.race([proc.done, sleep(10_000).then(() => undefined)]);
  if (!ended) proc.child.kill('SIGKILL');
  await proc.done;
}

async function waitForLine(proc, pattern, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = proc.lines.find((l) => pattern.test(l));
    if (line) return line.match(pattern);
    if (proc.exited) throw new Error(`${proc.name} exited before it was ready:\n${proc.stderr}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} was not ready within ${timeoutMs / 1000} s:\n${proc.stderr}`);
    await sleep(20);
  }
}

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', reject);
    request.setTimeout(5_000, () => request.destroy(new Error('timeout')));
  });
}

function send(url, method, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers: { 'content-type': 'application/json', ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: text }));
    });
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Polls GET url until it answers 200; the milliseconds from `since` to that answer. */
async function firstOk(url, since, proc, timeoutMs = 30_000) {
  for (;;) {
    try {
      const { status } = await get(url);
      if (status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    if (proc.exited) throw new Error(`${proc.name} exited before it was ready:\n${proc.stderr}`);
    if (performance.now() - since > timeoutMs) throw new Error(`${proc.name}: no 200 on ${url} within ${timeoutMs / 1000} s`);
    await sleep(5);
  }
}

/** The service's own view of its memory, from /metrics (prom-client's default metrics), in MiB. */
async function heapMiB(url) {
  const { body } = await get(`${url}/metrics`);
  const value = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body)?.[1] ?? NaN) / 1048576;
  return {
    heapUsed: round(value('nodejs_heap_size_used_bytes')),
    heapTotal: round(value('nodejs_heap_size_total_bytes')),
    external: round(value('nodejs_external_memory_bytes')),
    // Each of V8's spaces: what it holds / what it has taken from the system.
    spaces: [...body.matchAll(/^nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm)]
      .map(([, space, total]) => `${space} ${round(value(`nodejs_heap_space_size_used_bytes\\{space="${space}"\\}`))}/${round(Number(total) / 1048576)}`)
      .join(', '),
  };
}

function rssMiB(proc) {
  const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/** CPU time (user + system) the process has used, in ms. */
function cpuMs(proc) {
  const fields = readFileSync(`/proc/${proc.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// ---------------------------------------------------------------------------------------------
// Load

/** autocannon for `seconds` (or `amount` requests); throughput, p50/p99 (ms), errors (non-2xx included). */
async function load(url, { seconds, amount, connections = CONNECTIONS, method = 'GET', headers = {}, body, requests }) {
  const result = await autocannon({
    url,
    connections,
    method,
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body,
    requests,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
  });
  const completed = result.requests.total;
  return {
    requests: completed,
    rps: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    seconds: result.duration,
  };
}

/**
 * One connection, one request after another, for `seconds`: latencies at sub-millisecond precision
 * (autocannon's histogram counts whole milliseconds, too coarse for "adds 3 ms").
 */
async function sequential(url, { seconds, headers, body: makeBody }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const body = makeBody();
    const started = performance.now();
    const status = await new Promise((resolve, reject) => {
      const request = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
    latencies.push(performance.now() - started);
    if (status < 200 || status >= 300) errors++;
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

// ---------------------------------------------------------------------------------------------
// Identity: a JWKS issuer in this process

async function startIssuer() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const server = http.createServer((request, response) => {
    response.writeHead(request.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
    response.end(request.url === '/jwks.json' ? JSON.stringify({ keys: [jwk] }) : '{}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const token = (subject) =>
    new SignJWT({ email: `${subject}@bench.example` })
      .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('50m')
      .sign(privateKey);
  return { issuer, jwksUrl: `${issuer}/jwks.json`, token, close: () => new Promise((resolve) => server.close(resolve)) };
}

// ---------------------------------------------------------------------------------------------
// Database

async function admin(serverUrl, sql) {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** 10,000 runners: 50 of the listing's caller (and 50 of the local caller, for authentication off), the rest of 99 others. */
async function seed(databaseUrl, owner) {
  const rows = (issuer, subject, name, count, prefix) => `
    INSERT INTO runners (name, kind, status, ephemeral, labels, runner_group_id, github_runner_id, owner_issuer, owner_subject, owner_name, policy_rule, created_at)
    SELECT '${prefix}-' || i, 'jit', 'active', true, ARRAY['self-hosted','linux','x64','bench'], 1, 1000000 + i + ${prefix === 'seed' ? 0 : 500000},
           ${issuer}, ${subject}, ${name}, NULL, now() - (i || ' seconds')::interval
    FROM generate_series(1, ${count}) AS i`;
  const others = TOTAL_ROWS - 2 * OWNED_ROWS;
  await admin(
    databaseUrl,
    [
      rows(`'${owner.issuer}'`, `'${owner.subject}'`, `'${owner.subject}@bench.example'`, OWNED_ROWS, 'mine'),
      rows(`'local'`, `'local-user'`, `'local-user'`, OWNED_ROWS, 'local'),
      rows(`'${owner.issuer}'`, `'other-' || (i % ${OTHER_OWNERS})`, `'other-' || (i % ${OTHER_OWNERS})`, others, 'seed'),
      'ANALYZE runners',
    ].join(';\n'),
  );
}

// ---------------------------------------------------------------------------------------------
// The scenarios

const scenarios = [];

function judge(name, entry) {
  scenarios.push({ name, ...entry });
  say(`${name}: ${entry.measured} -> ${entry.met ? 'met' : 'NOT met'}`);
}

async function main() {
  checkDist(REQUIRED_DIST_FILES, { stopWhenStale: true });
  const serverUrl = process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL;
  const databaseName = `rts_bench_${randomBytes(6).toString('hex')}`;
  const databaseUrl = (() => {
    const url = new URL(serverUrl);
    url.pathname = `/${databaseName}`;
    return url.toString();
  })();
  const workDir = mkdtempSync(join(tmpdir(), 'rts-bench-'));
  const issuer = await startIssuer();
  let created = false;
  const startedAt = performance.now();
  try {
    // The GitHub simulator, with an hourly budget larger than any run (the bench measures the service).
    const simulator = start('the GitHub simulator', ['dist/github/simulator/standalone.js', '--port', '0']);
    const simulatorUrl = (await waitForLine(simulator, /^GITHUB_API_URL=(.+)$/))[1];
    await waitForLine(simulator, /^GITHUB_ORG=/);
    const githubEnv = Object.fromEntries(
      simulator.lines.filter((l) => /^GITHUB_[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    await forgetRunners(simulatorUrl);

    say(`creating ${databaseName} on ${new URL(serverUrl).host}`);
    await admin(serverUrl, `CREATE DATABASE "${databaseName}"`);
    created = true;
    const cli = start('init-db', [join(ROOT, 'dist/cli.js'), 'init-db'], { env: { DATABASE_URL: databaseUrl }, cwd: workDir });
    const initDb = await cli.done;
    if (initDb.code !== 0) throw new Error(`init-db failed:\n${cli.stderr}`);
    const owner = { issuer: issuer.issuer, subject: 'bench-owner' };
    await seed(databaseUrl, owner);
    const ownerToken = await issuer.token(owner.subject);
    const jitToken = await issuer.token('bench-jit');

    const serviceEnv = (port, auth) => ({
      ...githubEnv,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ENABLE_OIDC_AUTH: String(auth),
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_JWKS_URL: issuer.jwksUrl,
      RUNNER_SYSTEM_LABELS: SYSTEM_LABELS.join(','),
      // Nothing in the background: every GitHub request counted is a provisioning's.
      SCHEDULER_ENABLED: 'false',
      // The bench measures the service, not the limits that protect GitHub and the service from callers.
      GITHUB_JITCONFIG_PER_MINUTE: '0',
      GITHUB_MAX_CONCURRENCY: String(CONNECTIONS),
      RATE_LIMIT_PER_IP_PER_MINUTE: '0',
      RATE_LIMIT_PER_IDENTITY_PER_MINUTE: '0',
      SHUTDOWN_DRAIN_SECONDS: '0',
    });
    const profileDir = process.env.BENCH_CPU_PROF;
    const startService = async (name, auth) => {
      const port = await freePort();
      const args = [...NODE_ARGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(ROOT, 'dist/main.js')];
      const proc = start(name, args, { env: serviceEnv(port, auth), cwd: workDir, quiet: true });
      const url = `http://127.0.0.1:${port}`;
      const ms = await firstOk(`${url}/readyz`, performance.now(), proc);
      return { proc, url, readyMs: ms };
    };

    const service = await startService('the service', true);
    const unauthenticated = await startService('the service without authentication', false);
    const barePort = await freePort();
    const bare = start('the bare app', ['bench/bare-app.mjs'], { env: { PORT: String(barePort) } });
    await waitForLine(bare, /^listening/);
    const bareUrl = `http://127.0.0.1:${barePort}/constant`;

    // Sanity: the listing is the caller's 50 of 10,000, and the answer is what a client gets.
    const auth = { authorization: `Bearer ${ownerToken}` };
    const jitAuth = { authorization: `Bearer ${jitToken}` };
    for (const [url, headers] of [[service.url, auth], [unauthenticated.url, {}]]) {
      const { status, body } = await get(`${url}${LIST_PATH}`, headers);
      const count = status === 200 ? JSON.parse(body).runners?.length : undefined;
      if (count !== OWNED_ROWS) throw new Error(`GET ${LIST_PATH} answered ${status} with ${count} runners, expected ${OWNED_ROWS}: ${body.slice(0, 300)}`);
    }
    const listBytes = Buffer.byteLength((await get(`${service.url}${LIST_PATH}`, auth)).body);

    let served = 0;
    const onService = (result) => {
      served += result.requests;
      return result;
    };
    const mixed = async (amount) => {
      for (let left = amount; left > 0; left -= MIXED_BATCH) await mixedBatch(Math.min(MIXED_BATCH, left));
    };
    const mixedBatch = (amount) =>
      forgetRunners(simulatorUrl).then(() => load(service.url, {
        amount,
        requests: [
          { method: 'GET', path: LIST_PATH, headers: auth },
          { method: 'GET', path: LIST_PATH, headers: auth },
          { method: 'GET', path: LIST_PATH, headers: auth },
          { method: 'POST', path: JIT_PATH, headers: { ...jitAuth, 'content-type': 'application/json' }, body: JIT_BODY },
        ],
      })).then(onService);

    say('warming up');
    await load(bareUrl, { seconds: 2 });
    onService(await load(`${unauthenticated.url}${LIST_PATH}`, { seconds: 2 }));
    const afterStart = rssMiB(service.proc);
    // Memory, first point: after 20,000 mixed requests (three listings to one JIT provisioning).
    if (only('memory')) await mixed(MEMORY_FIRST - served);
    const rssFirst = rssMiB(service.proc);
    const heapFirst = await heapMiB(service.url);
    say(`RSS ${round(afterStart)} MiB after start, ${round(rssFirst)} MiB after ${served} requests (heap ${heapFirst.heapUsed} of ${heapFirst.heapTotal} MiB, external ${heapFirst.external} MiB; ${heapFirst.spaces})`);

    if (only('listing')) {
      // --- Listing vs the bare endpoint, and with authentication off, alternating.
      const listing = { bare: [], auth: [], noauth: [], cpu: [] };
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        listing.bare.push(await load(bareUrl, { seconds: SLICE_SECONDS }));
        const cpuBefore = cpuMs(service.proc);
        listing.auth.push(onService(await load(`${service.url}${LIST_PATH}`, { seconds: SLICE_SECONDS, headers: auth })));
        listing.cpu.push((cpuMs(service.proc) - cpuBefore) / listing.auth.at(-1).requests);
        listing.noauth.push(await load(`${unauthenticated.url}${LIST_PATH}`, { seconds: SLICE_SECONDS }));
        say(
          `listing round ${round_ + 1}: bare ${round(listing.bare.at(-1).rps, 0)}/s, auth ${round(listing.auth.at(-1).rps, 0)}/s ` +
            `(${round(listing.cpu.at(-1), 2)} ms of service CPU each), no auth ${round(listing.noauth.at(-1).rps, 0)}/s`,
        );
      }
      const listRatios = listing.auth.map((r, i) => r.rps / listing.bare[i].rps);
      const listP99 = median(listing.auth.map((r) => r.p99));
      const listErrors = listing.auth.reduce((sum, r) => sum + r.errors, 0);
      judge('listing: GET /runners, 50 of 10,000 rows, 32 conns', {
        throughput: round(median(listing.auth.map((r) => r.rps)), 0),
        p50: median(listing.auth.map((r) => r.p50)),
        p99: listP99,
        reference: { name: 'bare NestJS endpoint', throughput: round(median(listing.bare.map((r) => r.rps)), 0), p50: median(listing.bare.map((r) => r.p50)), p99: median(listing.bare.map((r) => r.p99)) },
        ratio: round(median(listRatios), 3),
        spread: [round(Math.min(...listRatios), 3), round(Math.max(...listRatios), 3)],
        target: '>= 0.30 of bare; p99 <= 25 ms',
        measured: `${round(median(listRatios), 3)} of bare, p99 ${listP99} ms, ${round(median(listing.cpu), 2)} ms of service CPU each`,
        cpuMsPerRequest: round(median(listing.cpu), 2),
        answerBytes: listBytes,
        errors: listErrors,
        met: median(listRatios) >= 0.3 && listP99 <= 25 && listErrors === 0,
      });
      const authCosts = listing.auth.map((r, i) => 1 - r.rps / listing.noauth[i].rps);
      judge('listing with authentication off', {
        throughput: round(median(listing.noauth.map((r) => r.rps)), 0),
        p50: median(listing.noauth.map((r) => r.p50)),
        p99: median(listing.noauth.map((r) => r.p99)),
        ratio: round(median(authCosts), 3),
        spread: [round(Math.min(...authCosts), 3), round(Math.max(...authCosts), 3)],
        target: 'authentication costs <= 10 %',
        measured: `authentication costs ${round(median(authCosts) * 100)} %`,
        met: median(authCosts) <= 0.1,
      });

    }

    if (only('jit')) {
      // --- JIT, one connection, against the same client calling the simulator directly.
      const installationToken = await appInstallationToken(simulatorUrl, githubEnv);
      let directCount = 0;
      const directUrl = `${simulatorUrl}/orgs/${githubEnv.GITHUB_ORG}/actions/runners/generate-jitconfig`;
      const directBody = () =>
        JSON.stringify({ name: `direct-${process.pid}-${directCount++}`, runner_group_id: 1, labels: [...SYSTEM_LABELS, 'bench'] });
      const single = { direct: [], service: [] };
      const singleSeconds = Math.max(2, Math.round(SLICE_SECONDS * 0.6));
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        await forgetRunners(simulatorUrl);
        single.direct.push(
          await sequential(directUrl, { seconds: singleSeconds, headers: { authorization: `token ${installationToken}`, accept: 'application/vnd.github+json', 'user-agent': 'rts-bench' }, body: directBody }),
        );
        await forgetRunners(simulatorUrl);
        single.service.push(onService(await sequential(`${service.url}${JIT_PATH}`, { seconds: singleSeconds, headers: jitAuth, body: () => JIT_BODY })));
        say(`JIT x1 round ${round_ + 1}: direct p50 ${round(single.direct.at(-1).p50, 2)} ms, service p50 ${round(single.service.at(-1).p50, 2)} ms`);
      }
      const addedP50 = single.service.map((r, i) => r.p50 - single.direct[i].p50);
      const addedP99 = single.service.map((r, i) => r.p99 - single.direct[i].p99);
      const singleErrors = single.service.reduce((sum, r) => sum + r.errors, 0) + single.direct.reduce((sum, r) => sum + r.errors, 0);
      judge('POST /runners/jit, 1 connection', {
        throughput: round(median(single.service.map((r) => r.rps)), 0),
        p50: round(median(single.service.map((r) => r.p50)), 2),
        p99: round(median(single.service.map((r) => r.p99)), 2),
        reference: {
          name: 'the simulator generate-jitconfig directly',
          throughput: round(median(single.direct.map((r) => r.rps)), 0),
          p50: round(median(single.direct.map((r) => r.p50)), 2),
          p99: round(median(single.direct.map((r) => r.p99)), 2),
        },
        ratio: round(median(addedP50), 2),
        ratioP99: round(median(addedP99), 2),
        spread: [round(Math.min(...addedP50), 2), round(Math.max(...addedP50), 2)],
        target: 'added p50 <= 3 ms, p99 <= 10 ms',
        measured: `adds ${round(median(addedP50), 2)} ms at p50, ${round(median(addedP99), 2)} ms at p99`,
        errors: singleErrors,
        met: median(addedP50) <= 3 && median(addedP99) <= 10 && singleErrors === 0,
      });

      // --- JIT at 32 connections; GitHub requests per provisioning from the simulator's log.
      await forgetRunners(simulatorUrl);
      const githubBefore = (await simulatorRequests(simulatorUrl)).length;
      // Rows of the JIT caller: one per provisioning that got as far as the database, finished or not.
      const attemptsBefore = await countRows(databaseUrl, 'bench-jit');
      const cpuBefore = cpuMs(service.proc);
      const many = [];
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        many.push(onService(await load(`${service.url}${JIT_PATH}`, { seconds: SLICE_SECONDS, method: 'POST', headers: jitAuth, body: JIT_BODY })));
        say(`JIT x32 round ${round_ + 1}: ${round(many.at(-1).rps, 0)}/s, p50 ${many.at(-1).p50} ms, ${many.at(-1).errors} errors`);
      }
      const cpuPerJit = (cpuMs(service.proc) - cpuBefore) / many.reduce((sum, r) => sum + r.requests, 0);
      // Requests still in flight when the load stopped finish first.
      await sleep(2_000);
      const githubDuring = (await simulatorRequests(simulatorUrl)).slice(githubBefore);
      const provisioned = (await countRows(databaseUrl, 'bench-jit')) - attemptsBefore;
      const githubPerJit = githubDuring.length / provisioned;
      const manyRps = many.map((r) => r.rps);
      // What an error was, when there were errors: the answer of one failing request sent the same way.
      let sampleError;
      if (many.some((r) => r.errors > 0)) {
        const answers = await Promise.all(
          Array.from({ length: CONNECTIONS * 2 }, () => send(`${service.url}${JIT_PATH}`, 'POST', JSON.parse(JIT_BODY), jitAuth)),
        );
        const failed = answers.find((a) => a.status !== 201);
        sampleError = failed ? `${failed.status} ${failed.body.slice(0, 300)}` : 'none when tried again';
        say(`JIT x32 error: ${sampleError}`);
      }
      const manyErrors = many.reduce((sum, r) => sum + r.errors, 0);
      judge('POST /runners/jit, 32 connections', {
        throughput: round(median(manyRps), 0),
        p50: median(many.map((r) => r.p50)),
        p99: median(many.map((r) => r.p99)),
        ratio: round(median(manyRps), 0),
        spread: [round(Math.min(...manyRps), 0), round(Math.max(...manyRps), 0)],
        target: '>= 450 provisions/s, zero errors',
        measured: `${round(median(manyRps), 0)}/s, ${manyErrors} errors, ${round(cpuPerJit, 2)} ms of service CPU each`,
        cpuMsPerProvisioning: round(cpuPerJit, 2),
        sampleError,
        errors: manyErrors,
        met: median(manyRps) >= 450 && manyErrors === 0,
      });
      judge('GitHub requests per JIT provisioning', {
        ratio: round(githubPerJit, 3),
        target: 'exactly 1',
        measured: `${round(githubPerJit, 3)} per provisioning (${githubDuring.length} for ${provisioned})`,
        requestsByKind: githubKinds(githubDuring),
        met: Math.abs(githubPerJit - 1) < 0.001,
      });

      // --- JIT with GitHub's latency: nothing may be held across the call.
      await forgetRunners(simulatorUrl);
      await send(`${simulatorUrl}/_simulator/faults`, 'POST', { pathRegex: 'generate-jitconfig$', delayMs: GITHUB_LATENCY_MS });
      const slow = onService(
        await load(`${service.url}${JIT_PATH}`, { seconds: SLICE_SECONDS + 2, method: 'POST', headers: jitAuth, body: JIT_BODY }),
      );
      await send(`${simulatorUrl}/_simulator/faults`, 'DELETE');
      const ideal = CONNECTIONS / (GITHUB_LATENCY_MS / 1000);
      judge(`POST /runners/jit, 32 conns, GitHub answers in ${GITHUB_LATENCY_MS} ms`, {
        throughput: round(slow.rps, 0),
        p50: slow.p50,
        p99: slow.p99,
        ratio: round(slow.rps / ideal, 3),
        target: `>= 0.9 of 32 / 0.3 s (${round(ideal, 0)}/s)`,
        measured: `${round(slow.rps / ideal, 3)} of ${round(ideal, 0)}/s, ${slow.errors} errors`,
        errors: slow.errors,
        met: slow.rps / ideal >= 0.9 && slow.errors === 0,
      });

    }

    if (only('memory')) {
      // --- Memory on PostgreSQL: after 20k, then 100k mixed requests.
      // Everything served so far counts; the rest is mixed load, for at most MEMORY_TOP_UP_SECONDS.
      const topUpUntil = performance.now() + MEMORY_TOP_UP_SECONDS * 1000;
      while (served < MEMORY_SECOND && performance.now() < topUpUntil) await mixed(Math.min(MIXED_BATCH, MEMORY_SECOND - served));
      const rssSecond = rssMiB(service.proc);
      const heapSecond = await heapMiB(service.url);
      say(`RSS ${round(rssSecond)} MiB after ${served} requests (heap ${heapSecond.heapUsed} of ${heapSecond.heapTotal} MiB, external ${heapSecond.external} MiB; ${heapSecond.spaces})`);
      const growth = rssSecond / rssFirst - 1;
      judge('memory on PostgreSQL (service RSS)', {
        ratio: round(growth, 3),
        target: `<= 200 MB after ${MEMORY_SECOND / 1000}k requests, growth from ${MEMORY_FIRST / 1000}k <= 10 %`,
        measured: `${round(rssFirst)} MiB after ${MEMORY_FIRST / 1000}k, ${round(rssSecond)} MiB after ${Math.round(served / 1000)}k (${round(growth * 100)} %)`,
        rssMiB: { afterStart: round(afterStart), first: round(rssFirst), second: round(rssSecond) },
        heapMiB: { first: heapFirst, second: heapSecond },
        met: served >= MEMORY_SECOND && rssSecond * 1.048576 <= 200 && growth <= 0.1,
      });
    }
    await stop(service.proc);
    await stop(unauthenticated.proc);
    await stop(bare);

    if (only('startup')) {
      // --- Start-up on PostgreSQL: process start to the first 200 on /readyz.
      const starts = [];
      for (let i = 0; i < STARTS; i++) {
        const port = await freePort();
        const started = performance.now();
        const proc = start('the service (start-up)', [...NODE_ARGS, join(ROOT, 'dist/main.js')], { env: serviceEnv(port, true), cwd: workDir, quiet: true });
        starts.push(await firstOk(`http://127.0.0.1:${port}/readyz`, started, proc));
        await stop(proc);
      }
      judge('start-up on PostgreSQL', {
        ratio: round(median(starts) / 1000, 2),
        spread: [round(Math.min(...starts) / 1000, 2), round(Math.max(...starts) / 1000, 2)],
        target: 'process start -> first 200 on /readyz <= 1.5 s',
        measured: `${round(median(starts) / 1000, 2)} s`,
        met: median(starts) <= 1500,
      });

    }
    if (only('sync')) {
      // --- The sync: bench/sync.mjs over 10,000 runners, without and with GitHub's latency per page.
      for (const delay of [0, SYNC_PAGE_LATENCY_MS]) {
        const limit = delay === 0 ? 2 : 4;
        const sync = await runSync(serverUrl, delay);
        const first = sync.scenarios.find((s) => s.name === 'first sync');
        const steady = sync.scenarios.find((s) => s.name === 'steady state');
        const worst = Math.max(...sync.scenarios.map((s) => s.wallMs)) / 1000;
        const lists = first.github.listRequests;
        const perRunner = first.github.perRunnerRequests + steady.github.perRunnerRequests;
        judge(`sync of ${TOTAL_ROWS.toLocaleString('en')} runners${delay ? `, ${delay} ms a page` : ''}`, {
          ratio: round(worst, 2),
          seconds: sync.scenarios.map((s) => ({ name: s.name, s: round(s.wallMs / 1000, 2) })),
          target: `100 list requests, nothing per runner listed, <= ${limit} s`,
          measured: `${lists} list requests, ${perRunner} per runner, first ${round(first.wallMs / 1000, 2)} s, steady ${round(steady.wallMs / 1000, 2)} s`,
          met: lists === 100 && perRunner === 0 && worst <= limit && sync.correct,
        });
      }

    }
    if (only('demo')) {
      // --- The demo on PGlite: RSS after start and 1,000 JITs.
      const demoPort = await freePort();
      const demo = start('the demo', [...NODE_ARGS, join(ROOT, 'dist/main.js'), '--demo'], {
        env: { PORT: String(demoPort), GITHUB_JITCONFIG_PER_MINUTE: '0', RATE_LIMIT_PER_IP_PER_MINUTE: '0', RATE_LIMIT_PER_IDENTITY_PER_MINUTE: '0' },
        cwd: workDir,
        quiet: true,
      });
      const demoUrl = `http://127.0.0.1:${demoPort}`;
      await firstOk(`${demoUrl}/readyz`, performance.now(), demo, 60_000);
      const demoStart = rssMiB(demo);
      const demoLoad = await load(`${demoUrl}${JIT_PATH}`, { amount: DEMO_JITS, connections: 8, method: 'POST', body: JIT_BODY });
      const demoAfter = rssMiB(demo);
      await stop(demo);
      judge('memory of the demo on PGlite', {
        throughput: round(demoLoad.rps, 0),
        ratio: round(Math.max(demoStart, demoAfter), 0),
        target: `<= 400 MB after start and ${DEMO_JITS} JITs`,
        measured: `${round(demoStart)} MiB after start, ${round(demoAfter)} MiB after ${DEMO_JITS} JITs (${demoLoad.errors} errors)`,
        rssMiB: { afterStart: round(demoStart), after: round(demoAfter) },
        errors: demoLoad.errors,
        met: Math.max(demoStart, demoAfter) * 1.048576 <= 400 && demoLoad.errors === 0,
      });

    }
    if (only('policy')) {
      // --- The access policy on the hot path: bench/policy.mjs, 50 rules, the last one matching.
      const proc = start('bench/policy.mjs', ['bench/policy.mjs', '--json']);
      await proc.done;
      const line = proc.lines.find((l) => l.startsWith('{'));
      if (!line) throw new Error(`bench/policy.mjs gave no result:\n${proc.stderr}`);
      const policy = JSON.parse(line);
      judge('access policy of 50 rules, per decision', {
        ratio: policy.perCallMs,
        target: '< 0.2 ms a request',
        measured: `${policy.perCallMs} ms (last of 50 rules matching)`,
        met: policy.met,
      });
    }

    const result = {
      run: {
        at: new Date().toISOString(),
        node: process.versions.node,
        cpus: availableParallelism(),
        cpu: cpus()[0]?.model,
        rounds: ROUNDS,
        sliceSeconds: SLICE_SECONDS,
        connections: CONNECTIONS,
        seconds: round((performance.now() - startedAt) / 1000, 0),
      },
      scenarios,
      met: scenarios.every((s) => s.met),
    };
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(table(result));
  } finally {
    for (const proc of children) await stop(proc);
    await issuer.close();
    if (created) await admin(serverUrl, `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`).catch((error) => say(`could not drop ${databaseName}: ${error.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** An installation token the way the service gets one: an App JWT, then POST access_tokens. */
async function appInstallationToken(simulatorUrl, githubEnv) {
  const key = createPrivateKey(readFileSync(githubEnv.GITHUB_APP_PRIVATE_KEY_PATH));
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(githubEnv.GITHUB_APP_ID)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 30)
    .setExpirationTime('9m')
    .sign(key);
  const { status, body } = await send(
    `${simulatorUrl}/app/installations/${githubEnv.GITHUB_APP_INSTALLATION_ID}/access_tokens`,
    'POST',
    {},
    { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json', 'user-agent': 'rts-bench' },
  );
  if (status !== 201) throw new Error(`the simulator refused an installation token: ${status} ${body}`);
  return JSON.parse(body).token;
}

/**
 * The simulator forgets its runners (and faults and request log), as GitHub would once ephemeral runners
 * finished: like GitHub it refuses a runner group's 10,001st runner, and a run provisions more than that.
 */
async function forgetRunners(simulatorUrl) {
  await send(`${simulatorUrl}/_simulator/reset`, 'POST');
  await send(`${simulatorUrl}/_simulator/rate-limit`, 'POST', { limit: 100_000_000 });
}

async function countRows(databaseUrl, ownerSubject) {
  const { rows } = await admin(databaseUrl, `SELECT count(*)::int AS n FROM runners WHERE owner_subject = '${ownerSubject}'`);
  return rows[0].n;
}

/** The GitHub API requests the simulator has answered (its control API left out). */
async function simulatorRequests(simulatorUrl) {
  const { body } = await get(`${simulatorUrl}/_simulator/requests`);
  return JSON.parse(body).requests.filter((r) => !r.path.startsWith('/_simulator'));
}

async function runSync(serverUrl, delay) {
  const args = ['bench/sync.mjs', '--database', 'postgres', '--database-url', serverUrl, '--runners', String(TOTAL_ROWS), '--json'];
  if (delay) args.push('--page-delay-ms', String(delay));
  say(`sync: node ${args.join(' ')}`);
  const proc = start('bench/sync.mjs', args);
  const { code } = await proc.done;
  const line = proc.lines.find((l) => l.startsWith('{'));
  if (!line) throw new Error(`bench/sync.mjs exited ${code} without a result:\n${proc.stderr}`);
  return JSON.parse(line);
}

// ---------------------------------------------------------------------------------------------
// Output

function table(result) {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'judged', 'target', 'met'];
  const rows = result.scenarios.map((s) => [
    s.name,
    s.throughput === undefined ? '' : String(s.throughput),
    s.p50 === undefined ? '' : String(round(s.p50, 2)),
    s.p99 === undefined ? '' : String(round(s.p99, 2)),
    s.measured,
    s.target,
    s.met ? 'yes' : 'NO',
  ]);
  for (const s of result.scenarios.filter((x) => x.reference)) {
    rows.splice(rows.findIndex((r) => r[0] === s.name) + 1, 0, [
      `  reference: ${s.reference.name}`,
      String(s.reference.throughput),
      String(round(s.reference.p50, 2)),
      String(round(s.reference.p99, 2)),
      s.spread ? `spread ${s.spread[0]}–${s.spread[1]}` : '',
      '',
      '',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const { run } = result;
  return [
    `Runner Token Service benchmark, ${run.at}: Node ${run.node}, ${run.cpus} CPUs (${run.cpu}), ${run.rounds} rounds of ${run.sliceSeconds} s, ${run.seconds} s in all`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    '',
    `${result.scenarios.filter((s) => s.met).length} of ${result.scenarios.length} targets met; bench/results/latest.json has the details.`,
    '',
  ].join('\n');
}

let exitCode = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    Promise.all(children.map(stop)).finally(() => process.exit(1));
  });
}
try {
  await main();
} catch (error) {
  say(`failed: ${error?.stack ?? error}`);
  exitCode = 1;
}
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 5_000).unref();
