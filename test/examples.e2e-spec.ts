/**
 * The README's flows as scripts (examples/), run as a user runs them: from bash, against the demo
 * over real HTTP. Stand-ins for the GitHub Actions runner (actions-runner/run.sh and config.sh)
 * and for podman record what they were handed. Checked: what the scripts print, what the service
 * recorded, what GitHub (the simulator) holds afterwards, and that no credential reaches the
 * scripts' output or a command line. The README's own shell blocks for these flows run too.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configurationCommand } from '../src/runners/dto/provision-runner-response.dto.js';
import { startDemo, type Demo } from './support/demo.js';
import { RunnerHost, type Result } from './support/runner-host.js';

const EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SCRIPTS = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.sh') && name !== 'common.sh')
  .sort();
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const DEFAULT_IMAGE = 'ghcr.io/actions/actions-runner:latest';

interface RunnerBody {
  runner_id: string;
  runner_name: string;
  status: string;
  labels: string[];
  github_runner_id: number | null;
}

const sha256 = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;
const runnerIdIn = (output: string) => new RegExp(`runner_id (${UUID})`).exec(output)?.[1];

describe('examples/ against the demo (e2e)', () => {
  let demo: Demo;
  let host: RunnerHost;

  beforeAll(async () => {
    // The demo as `npm run demo` configures it; its background sync is off so that no tick
    // changes a runner between a script and the check that follows it.
    demo = await startDemo({ SCHEDULER_ENABLED: 'false' });
    host = new RunnerHost(() => demo.url);
  });

  afterAll(async () => {
    host?.remove();
    await demo?.close();
  });

  /** The script's output holds none of the credentials handed out so far, nor do the stand-ins' arguments. */
  function expectNoCredentialShown(result: Result): void {
    const shown = [result.stdout, result.stderr, ...host.calls().flatMap((call) => call.args)].join('\n');
    for (const credential of host.credentials) expect(shown.includes(credential)).toBe(false);
  }

  /** The fingerprint the audit trail kept of the credential issued for this runner. */
  async function auditedFingerprint(runnerId: string, field: 'jit_config_fingerprint' | 'token_fingerprint'): Promise<string> {
    const rows: { fingerprint: string }[] = await demo.dataSource.query(
      `SELECT details->>'${field}' AS fingerprint FROM audit_events WHERE runner_id = $1 AND outcome = 'succeeded' AND details->>'${field}' IS NOT NULL`,
      [runnerId],
    );
    expect(rows).toHaveLength(1);
    return rows[0].fingerprint;
  }

  const runnerCount = async () => Number((await demo.dataSource.query(`SELECT count(*)::int AS n FROM runners`))[0].n);

  async function getRunner(idOrName: string): Promise<RunnerBody> {
    const answer = await fetch(`${demo.url}/api/v1/runners/${encodeURIComponent(idOrName)}`);
    expect(answer.status).toBe(200);
    return (await answer.json()) as RunnerBody;
  }

  async function provisionJit(name: string): Promise<RunnerBody> {
    const answer = await fetch(`${demo.url}/api/v1/runners/jit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ runner_name: name, labels: ['examples'] }),
    });
    expect(answer.status).toBe(201);
    return getRunner(((await answer.json()) as RunnerBody).runner_id);
  }

  /** The runners examples/list.sh prints: one indented JSON object after another. */
  function listed(stdout: string): RunnerBody[] {
    return stdout.trim() === '' ? [] : stdout.trim().split(/\n(?=\{)/).map((text) => JSON.parse(text) as RunnerBody);
  }

  /** The variables a script reads: ${NAME:-…} in it, and those of common.sh's functions it calls. */
  function variablesOf(script: string): string[] {
    const text = readFileSync(join(EXAMPLES, script), 'utf8');
    const own = [...text.matchAll(/\$\{([A-Z_]+):?-/g)].map((match) => match[1]);
    const jit = text.includes('jit_request') ? ['LABELS', 'RUNNER_GROUP_ID', 'WORK_FOLDER'] : [];
    return [...new Set(['RTS_URL', 'OIDC_TOKEN', ...own, ...jit])];
  }

  it('has a usage for -h in every script, and refuses an unknown option', async () => {
    expect(SCRIPTS).toEqual([
      'delete.sh',
      'jit-prefix.sh',
      'jit.sh',
      'list.sh',
      'podman.sh',
      'provision-loop.sh',
      'provision.sh',
      'refresh.sh',
    ]);
    for (const script of SCRIPTS) {
      const help = await host.run(`examples/${script} -h`);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(new RegExp(`^Usage: examples/${script.replace('.', '\\.')}`));
      const examplesReadme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
      for (const variable of variablesOf(script)) {
        expect({ script, variable, inUsage: new RegExp(`^  ${variable} `, 'm').test(help.stdout) }).toEqual({ script, variable, inUsage: true });
        expect(examplesReadme).toContain(`\`${variable}\``);
      }

      const wrong = await host.run(`examples/${script} --verbose`);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/^Error: unknown option --verbose\nUsage: /);
    }
  });

  describe('JIT', () => {
    it('jit.sh provisions RUNNER_NAME and starts ./run.sh in RUNNER_DIR with the config in its environment', async () => {
      const result = await host.run('examples/jit.sh', { RUNNER_GROUP_ID: '1', WORK_FOLDER: '_work' });

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(
        new RegExp(`^Runner secure-worker-001 \\(runner_id ${UUID}\\), labels self-hosted,linux,x64,gpu,ubuntu-22.04; its JIT config is valid until \\S+Z\\n`),
      );
      expect(result.stdout).toContain('Starting it: ./run.sh in actions-runner\nrun.sh started\n');
      const [call] = host.calls();
      expect(host.calls()).toHaveLength(1);
      expect(call).toMatchObject({ program: 'run.sh', cwd: host.runnerDir, args: [], token: '' });
      // The very config the service issued for this runner, and a config for this runner.
      const runnerId = runnerIdIn(result.stdout)!;
      expect(sha256(call.jit_config)).toBe(await auditedFingerprint(runnerId, 'jit_config_fingerprint'));
      const files = JSON.parse(Buffer.from(call.jit_config, 'base64').toString()) as Record<string, string>;
      expect(JSON.parse(Buffer.from(files['.runner'], 'base64').toString())).toMatchObject({
        AgentName: 'secure-worker-001',
        WorkFolder: '_work',
      });
      expectNoCredentialShown(result);

      const runner = await getRunner(runnerId);
      expect(runner).toMatchObject({ runner_name: 'secure-worker-001', status: 'pending' });
      expect(demo.simulator.findRunnerByName('secure-worker-001')?.id).toBe(runner.github_runner_id);
    });

    it('jit-prefix.sh gets a generated name after RUNNER_NAME_PREFIX', async () => {
      const result = await host.run('examples/jit-prefix.sh', { RUNNER_NAME_PREFIX: 'gpu-worker', LABELS: 'gpu,cuda-12' });

      expect(result).toMatchObject({ code: 0, stderr: '' });
      const name = /^Runner (gpu-worker-[0-9a-f]{6}) /.exec(result.stdout)?.[1];
      expect(name).toBeDefined();
      const runner = await getRunner(name!);
      expect(runner.labels).toEqual(['self-hosted', 'linux', 'x64', 'gpu', 'cuda-12']);
      const [call] = host.calls();
      expect(call).toMatchObject({ program: 'run.sh', cwd: host.runnerDir, args: [] });
      expect(sha256(call.jit_config)).toBe(await auditedFingerprint(runner.runner_id, 'jit_config_fingerprint'));
      expectNoCredentialShown(result);
    });

    it('podman.sh runs the runner image in a container named after the runner, the config in its environment only', async () => {
      const result = await host.run('examples/podman.sh', { PODMAN_ARGS: '--cpus=2 --memory=4g' });

      expect(result).toMatchObject({ code: 0, stderr: '' });
      const name = /^Runner (podman-runner-[0-9a-f]{6}) /.exec(result.stdout)?.[1]!;
      expect(result.stdout).toContain(`Starting runner: ${name} (container ${name}, image ${DEFAULT_IMAGE})\npodman started\n`);
      const [call] = host.calls();
      expect(call.program).toBe('podman');
      // --env NAME without a value: podman copies it from its own environment, so no command line holds it.
      expect(call.args).toEqual(['run', '--rm', '--name', name, '--env', 'ACTIONS_RUNNER_INPUT_JITCONFIG', '--cpus=2', '--memory=4g', DEFAULT_IMAGE, './run.sh']);
      const runner = await getRunner(name);
      expect(runner.labels).toEqual(['self-hosted', 'linux', 'x64', 'podman']);
      expect(sha256(call.jit_config)).toBe(await auditedFingerprint(runner.runner_id, 'jit_config_fingerprint'));
      expectNoCredentialShown(result);
    });

    it('shows the API error code and message, exits 1 and starts nothing when the service refuses', async () => {
      const result = await host.run('examples/jit.sh', { RUNNER_NAME: 'no spaces allowed' });

      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(`^Error: HTTP 400 VALIDATION_FAILED: runner_name must be at most 64 characters of A-Z a-z 0-9 \\. _ - \\(request_id ${UUID}\\)\\n$`),
      );
      expect(host.calls()).toEqual([]);
    });

    it('sends a name that looks like JSON as a name, not as more fields', async () => {
      const before = await runnerCount();
      const result = await host.run('examples/jit.sh', { RUNNER_NAME: 'x","labels":["evil"],"runner_name_prefix":"y' });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Error: HTTP 400 VALIDATION_FAILED: runner_name must be');
      expect(await runnerCount()).toBe(before);
      expect(host.calls()).toEqual([]);
    });

    it('stops before asking for a config when there is no runner to start', async () => {
      const before = await runnerCount();
      const noRunner = await host.run('examples/jit.sh', { RUNNER_DIR: 'nowhere' });
      expect(noRunner.code).toBe(1);
      expect(noRunner.stderr).toBe('Error: no executable nowhere/run.sh: unpack the GitHub Actions runner there, or set RUNNER_DIR\n');

      const noPodman = await host.run('examples/podman.sh', { PODMAN: 'no-such-podman' });
      expect(noPodman.code).toBe(1);
      expect(noPodman.stderr).toBe('Error: no-such-podman not found: install Podman, or set PODMAN\n');

      expect(await runnerCount()).toBe(before);
    });

    it('says so when nothing answers at RTS_URL', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));

      const result = await host.run('examples/list.sh', { RTS_URL: `http://127.0.0.1:${port}` });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Error: no answer from the Runner Token Service at http://127.0.0.1:${port} (is it running? is RTS_URL right?)`,
      );
    });
  });

  describe('registration tokens', () => {
    it('provision.sh registers the runner with config.sh as configuration_command says, the token in its environment, then starts it', async () => {
      const result = await host.run('examples/provision.sh');

      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(
        new RegExp(`^Runner gpu-worker-001 \\(runner_id ${UUID}\\), labels gpu,ubuntu-22.04; its registration token is valid until \\S+Z\\n`),
      );
      const githubUrl = `${demo.simulator.url}/${demo.simulator.org}`;
      const args = ['--unattended', '--url', githubUrl, '--name', 'gpu-worker-001', '--labels', 'gpu,ubuntu-22.04', '--runnergroup', 'Default', '--ephemeral'];
      expect(result.stdout).toContain(`Configuring it: ./config.sh ${args.join(' ')} in actions-runner\nconfig.sh started\nStarting it: ./run.sh\nrun.sh started\n`);
      const [config, run] = host.calls();
      expect(host.calls()).toHaveLength(2);
      expect(config).toMatchObject({ program: 'config.sh', cwd: host.runnerDir, args, jit_config: '' });
      expect(run).toMatchObject({ program: 'run.sh', cwd: host.runnerDir, args: [], jit_config: '', token: '' });
      const runnerId = runnerIdIn(result.stdout)!;
      expect(sha256(config.token)).toBe(await auditedFingerprint(runnerId, 'token_fingerprint'));
      expectNoCredentialShown(result);

      // What the real config.sh and run.sh do with it: the service then finds the runner on GitHub.
      const registered = demo.simulator.registerRunner({
        token: config.token,
        name: 'gpu-worker-001',
        labels: ['gpu', 'ubuntu-22.04'],
        ephemeral: true,
        runnerGroup: 'Default',
      });
      demo.simulator.setRunnerStatus(registered.id, { status: 'online' });
      const refreshed = await host.run('examples/refresh.sh gpu-worker-001');
      expect(refreshed.code).toBe(0);
      expect(JSON.parse(refreshed.stdout)).toMatchObject({ runner_name: 'gpu-worker-001', status: 'active', github_runner_id: registered.id });

      // Deleted, its name is free again for the README's flows below.
      const deleted = await host.run('examples/delete.sh gpu-worker-001');
      expect(JSON.parse(deleted.stdout)).toMatchObject({ runner_name: 'gpu-worker-001', status: 'deleted' });
      expect(demo.simulator.findRunnerByName('gpu-worker-001')).toBeUndefined();
    });

    it('provision.sh leaves --ephemeral out when EPHEMERAL=false, and refuses anything but true or false', async () => {
      const result = await host.run('examples/provision.sh', { RUNNER_NAME: 'long-lived-001', EPHEMERAL: 'false', LABELS: 'build' });
      expect(result.code).toBe(0);
      expect(host.calls()[0].args).toEqual(['--unattended', '--url', `${demo.simulator.url}/${demo.simulator.org}`, '--name', 'long-lived-001', '--labels', 'build', '--runnergroup', 'Default']);

      const wrong = await host.run('examples/provision.sh', { EPHEMERAL: 'yes' });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toBe('Error: EPHEMERAL must be true or false, not "yes"\n');
      expect(host.calls()).toEqual([]);
    });

    it('provision-loop.sh provisions COUNT runners and saves each configuration_command in a file only its owner can read', async () => {
      const output = join(host.dir, 'configs');
      mkdirSync(output);
      const result = await host.run('examples/provision-loop.sh', { COUNT: '3', NAME_PREFIX: 'batch', OUTPUT_DIR: 'configs' });

      expect(result).toMatchObject({ code: 0, stderr: '' });
      for (const i of [1, 2, 3]) {
        expect(result.stdout).toContain(`Provisioning runner ${i}...\nRunner batch-00${i} (runner_id `);
        expect(result.stdout).toContain(`Configuration saved to configs/runner-${i}-config.sh\n`);
      }
      const files = readdirSync(output).sort();
      expect(files).toEqual(['runner-1-config.sh', 'runner-2-config.sh', 'runner-3-config.sh']);
      for (const [index, file] of files.entries()) {
        const path = join(output, file);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        const command = readFileSync(path, 'utf8');
        const match = new RegExp(
          `^\\./config\\.sh --url \\S+ --token (\\S+) --name batch-00${index + 1} --labels worker,batch-${index + 1} --runnergroup Default --ephemeral\\n$`,
        ).exec(command);
        expect(match).not.toBeNull();
        host.credentials.add(match![1]);
        const runner = await getRunner(`batch-00${index + 1}`);
        expect(sha256(match![1])).toBe(await auditedFingerprint(runner.runner_id, 'token_fingerprint'));
      }
      expectNoCredentialShown(result);
    });

    it.each(['0', '101', 'abc', '3; echo'])('provision-loop.sh refuses COUNT=%s before provisioning anything', async (count) => {
      const before = await runnerCount();
      const result = await host.run('examples/provision-loop.sh', { COUNT: count });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`Error: COUNT must be a whole number from 1 to 100, not "${count}"\n`);
      expect(await runnerCount()).toBe(before);
    });
  });

  describe('your runners: list, refresh, delete', () => {
    it('list.sh prints every runner of the caller, newest first, across pages, and filters by STATUS', async () => {
      const names = ['list-a', 'list-b', 'list-c', 'list-d', 'list-e'];
      const runners: RunnerBody[] = [];
      for (const name of names) runners.push(await provisionJit(name));
      const all = listed((await host.run('examples/list.sh')).stdout);
      expect(all.slice(0, 5).map((runner) => runner.runner_name)).toEqual([...names].reverse());

      // Two a page: three requests or more, each runner once, in the same order.
      const paged = await host.run('examples/list.sh', { PAGE_SIZE: '2' });
      expect(paged).toMatchObject({ code: 0, stderr: '' });
      expect(listed(paged.stdout)).toEqual(all);

      demo.simulator.setRunnerStatus(runners[1].github_runner_id!, { status: 'online' });
      expect((await host.run(`examples/refresh.sh ${runners[1].runner_id}`)).code).toBe(0);
      const active = await host.run('examples/list.sh', { STATUS: 'active' });
      expect(listed(active.stdout).map((runner) => runner.runner_name)).toEqual(['list-b']);
      const pending = listed((await host.run('examples/list.sh', { STATUS: 'pending', PAGE_SIZE: '1' })).stdout);
      expect(pending.map((runner) => runner.runner_name)).toEqual(expect.arrayContaining(['list-a', 'list-c', 'list-d', 'list-e']));
      expect(pending.every((runner) => runner.status === 'pending')).toBe(true);
    });

    it('list.sh shows the API error for a STATUS the service does not know', async () => {
      const result = await host.run('examples/list.sh', { STATUS: 'running&limit=1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Error: HTTP 400 VALIDATION_FAILED: status must be one of pending, active, offline, deleted, failed/);
    });

    it('refresh.sh reads the runner from GitHub: online becomes active, gone becomes deleted', async () => {
      const runner = await provisionJit('refresh-me');
      demo.simulator.setRunnerStatus(runner.github_runner_id!, { status: 'online', busy: true });

      const byName = await host.run('examples/refresh.sh refresh-me');
      expect(byName).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(byName.stdout)).toMatchObject({ runner_id: runner.runner_id, status: 'active', busy: true });

      // The job ends: GitHub removes the ephemeral runner.
      demo.simulator.completeJob(runner.github_runner_id!);
      const byId = await host.run('examples/refresh.sh', { RUNNER_ID: runner.runner_id });
      expect(JSON.parse(byId.stdout)).toMatchObject({ runner_name: 'refresh-me', status: 'deleted' });
    });

    it('refresh.sh and delete.sh answer 404 for a runner that is not the caller’s, and need one named', async () => {
      for (const script of ['refresh.sh', 'delete.sh']) {
        const traversal = await host.run(`examples/${script} ../jit`);
        expect(traversal.code).toBe(1);
        expect(traversal.stderr).toMatch(/^Error: HTTP 404 RUNNER_NOT_FOUND: You have no runner with the id or name "\.\.\/jit"/);

        const none = await host.run(`examples/${script}`);
        expect(none.code).toBe(2);
        expect(none.stderr).toMatch(/^Error: name the runner: its runner_id or name, as the argument or in RUNNER_ID\nUsage: /);
      }
    });

    it('delete.sh removes the runner from GitHub and marks it deleted; list.sh then shows it only with STATUS=deleted', async () => {
      const runner = await provisionJit('delete-me');

      const result = await host.run(`examples/delete.sh ${runner.runner_id}`);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toMatchObject({ runner_name: 'delete-me', status: 'deleted' });
      expect(demo.simulator.findRunnerByName('delete-me')).toBeUndefined();

      const names = async (env: Record<string, string> = {}) => listed((await host.run('examples/list.sh', env)).stdout).map((r) => r.runner_name);
      expect(await names()).not.toContain('delete-me');
      expect(await names({ STATUS: 'deleted' })).toContain('delete-me');
    });

    it('delete.sh leaves a runner that is running a job, with the API’s RUNNER_BUSY', async () => {
      const runner = await provisionJit('busy-one');
      demo.simulator.setRunnerStatus(runner.github_runner_id!, { status: 'online', busy: true });

      const result = await host.run('examples/delete.sh busy-one');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Error: HTTP 409 RUNNER_BUSY: /);
      expect(demo.simulator.findRunnerByName('busy-one')).toBeDefined();
    });
  });

  describe('the README', () => {
    /** The README's shell blocks for these flows: running the scripts, or curl against the demo's runners API. */
    const blocks = [...README.matchAll(/```bash\n([\s\S]*?)```/g)]
      .map((match) => match[1])
      .filter((block) => /(^|\s)examples\/[a-z-]+\.sh/m.test(block) || block.includes('http://localhost:8000/api/v1/runners'));

    it('shows every script', () => {
      for (const script of SCRIPTS) expect(blocks.some((block) => block.includes(`examples/${script}`))).toBe(true);
    });

    it('runs each block as shown, against the demo', async () => {
      expect(blocks.length).toBeGreaterThanOrEqual(5);
      for (const block of blocks) {
        const runner = await provisionJit(`readme-${Math.random().toString(16).slice(2, 8)}`);
        const result = await host.run(`set -e -o pipefail\n${block.replaceAll('http://localhost:8000', demo.url)}`, { RUNNER_ID: runner.runner_id });
        // The seed's curl lines without -s print curl's progress on stderr: only the scripts' must be empty.
        const scripts = /(^|\s)examples\//m.test(block);
        expect({ block, code: result.code, stderr: scripts ? result.stderr : '' }).toEqual({ block, code: 0, stderr: '' });
        expect(result.stdout).not.toContain('"error":');
        if (scripts) expectNoCredentialShown(result);
      }
    });
  });
});

describe('examples/ against a stand-in service (e2e)', () => {
  let server: Server;
  let host: RunnerHost;
  let url: string;
  let handle: (request: IncomingMessage, body: string, response: ServerResponse) => void;
  const requests: { method: string; path: string; authorization?: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ method: request.method!, path: request.url!, authorization: request.headers.authorization });
        handle(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    host = new RunnerHost(() => url);
  });

  beforeEach(() => {
    requests.length = 0;
  });

  afterAll(async () => {
    host?.remove();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  it('sends OIDC_TOKEN as a bearer token, and no Authorization header without one', async () => {
    handle = (_request, _body, response) => json(response, 200, { runners: [], next_cursor: null, next: null });

    expect(await host.run('examples/list.sh', { OIDC_TOKEN: 'eyJ.header.sig' })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(await host.run('examples/list.sh')).toMatchObject({ code: 0, stdout: '' });
    expect(requests).toEqual([
      { method: 'GET', path: '/api/v1/runners', authorization: 'Bearer eyJ.header.sig' },
      { method: 'GET', path: '/api/v1/runners', authorization: undefined },
    ]);
  });

  it('refuses an OIDC_TOKEN that would break out of the header, before sending anything', async () => {
    const result = await host.run('examples/list.sh', { OIDC_TOKEN: 'abc"\nurl = "http://elsewhere.example' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Error: OIDC_TOKEN is not a bearer token (letters, digits and . _ ~ + / = - only)\n');
    expect(requests).toEqual([]);
  });

  it.each([
    ["Team A's runners", true],
    ['nightly --ephemeral', false],
    ['x --runnergroup y', true],
  ])('provision.sh hands config.sh the runner group named %p whole (ephemeral: %p)', async (group, ephemeral) => {
    const token = 'AABBCCDDEEFFGGHHIIJJKKLLMMNN1';
    handle = (_request, _body, response) =>
      json(response, 201, {
        runner_id: '00000000-0000-4000-8000-000000000001',
        runner_name: 'gpu-worker-001',
        registration_token: token,
        expires_at: '2026-01-16T15:30:00.000Z',
        github_url: 'https://github.com/my-org',
        runner_group_id: 7,
        ephemeral,
        labels: ['gpu'],
        configuration_command: configurationCommand({
          githubUrl: 'https://github.com/my-org',
          token,
          name: 'gpu-worker-001',
          labels: ['gpu'],
          runnerGroup: group,
          ephemeral,
        }),
      });

    const result = await host.run('examples/provision.sh', { LABELS: 'gpu' });
    expect(result.code).toBe(0);
    const [config] = host.calls();
    expect(config.args).toEqual([
      '--unattended', '--url', 'https://github.com/my-org', '--name', 'gpu-worker-001', '--labels', 'gpu', '--runnergroup', group,
      ...(ephemeral ? ['--ephemeral'] : []),
    ]);
    expect(config.token).toBe(token);
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
  });

  it('says so when the answer is not the API’s, such as a proxy’s error page', async () => {
    handle = (_request, _body, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body>Bad Gateway</body></html>');
    };

    const result = await host.run('examples/refresh.sh some-runner');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: HTTP 502 from ${url}, not an answer of the Runner Token Service (is RTS_URL right?)\n`);
    expect(requests).toEqual([{ method: 'POST', path: '/api/v1/runners/some-runner/refresh', authorization: undefined }]);
  });
});
