import request from 'supertest';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { GithubSimulator } from '../src/github/simulator/github-simulator.js';
import type { TestApp } from './support/app.js';
import { cli, query, seedThroughApp, sharedDatabase, type SharedDatabase } from './support/cli.js';

async function provision(t: TestApp, subject: string, name: string): Promise<void> {
  const token = await t.oidc.token({ sub: subject, email: `${subject}@example.com` });
  const response = await request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels: ['cli'] });
  expect(response.status).toBe(201);
}

function githubIdOf(simulator: GithubSimulator, name: string): number {
  const runner = simulator.findRunnerByName(name);
  if (!runner) throw new Error(`GitHub has no runner ${name}`);
  return runner.id;
}

describe('CLI suspend-identity and resume-identity (e2e)', () => {
  let database: SharedDatabase;
  let simulator: GithubSimulator;
  let config: AppConfig;
  let issuer: string;

  beforeAll(async () => {
    [database, simulator] = await Promise.all([sharedDatabase(), GithubSimulator.start()]);
    config = await seedThroughApp(database, simulator, async (t) => {
      issuer = t.oidc.issuer;
      await provision(t, 'carol-sub', 'carol-idle');
      await provision(t, 'carol-sub', 'carol-busy');
      await provision(t, 'carol-sub', 'carol-failing');
      await provision(t, 'dave-sub', 'dave-team-x');
      await t.dataSource.query(`UPDATE runners SET policy_rule = 'team-x' WHERE name = 'dave-team-x'`);
    });
    simulator.setRunnerStatus(githubIdOf(simulator, 'carol-busy'), { status: 'online', busy: true });
  });

  afterEach(() => {
    simulator.clearFaults();
  });

  afterAll(async () => {
    await simulator?.stop();
    await database?.drop();
  });

  const statusOf = async (name: string) => (await query<{ status: string }>(database, `SELECT status FROM runners WHERE name = $1`, [name]))[0].status;

  it('suspends an identity and removes its idle runners: a table of what was removed, skipped or failed; a failure exits 1', async () => {
    simulator.injectFault({ method: 'DELETE', path: `/orgs/${simulator.org}/actions/runners/${githubIdOf(simulator, 'carol-failing')}`, status: 500 });
    const result = await cli(config, 'suspend-identity', '--issuer', issuer, '--subject', 'carol-sub', '--remove-runners', '--reason', 'INC-7');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toBe('Error: 1 runner could not be removed (see above); run the command again later\n');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Suspended the identity "carol-sub" of issuer ${issuer}: their requests are refused until resume-identity.`);
    expect(lines[1]).toMatch(/^NAME\s+OWNER\s+GITHUB ID\s+RESULT\s+REASON$/);
    expect(lines[2]).toMatch(/^carol-idle\s+carol-sub@example\.com\s+\d+\s+removed\s+deleted on GitHub$/);
    expect(lines[3]).toMatch(/^carol-busy\s+carol-sub@example\.com\s+\d+\s+skipped: busy\s+Runner "carol-busy" is running a job on GitHub/);
    expect(lines[4]).toMatch(/^carol-failing\s+carol-sub@example\.com\s+\d+\s+failed\s+GITHUB_UNAVAILABLE: /);
    expect(lines[5]).toBe(
      '1 removed, 1 left because busy, 1 failed. The next cleanup removes the busy runners once they are idle (an ephemeral runner leaves GitHub after its job).',
    );
    expect(lines).toHaveLength(6);

    expect(simulator.findRunnerByName('carol-idle')).toBeUndefined();
    expect(await statusOf('carol-idle')).toBe('deleted');
    expect(await statusOf('carol-busy')).toBe('pending');
    expect(await statusOf('dave-team-x')).toBe('pending');
    expect(await query(database, `SELECT issuer, subject, rule, created_by, reason FROM suspensions`)).toEqual([
      { issuer, subject: 'carol-sub', rule: null, created_by: 'system:cli', reason: 'INC-7' },
    ]);
    const audit = await query<{ actor: string; action: string; outcome: string; runner_name: string | null }>(
      database,
      `SELECT actor, action, outcome, runner_name FROM audit_events WHERE action IN ('suspend_identity', 'delete') ORDER BY occurred_at`,
    );
    expect(audit).toEqual([
      { actor: 'system:cli', action: 'suspend_identity', outcome: 'succeeded', runner_name: null },
      { actor: 'system:cli', action: 'delete', outcome: 'succeeded', runner_name: 'carol-idle' },
      { actor: 'system:cli', action: 'delete', outcome: 'denied', runner_name: 'carol-busy' },
      { actor: 'system:cli', action: 'delete', outcome: 'failed', runner_name: 'carol-failing' },
    ]);
  });

  it('--json prints what the API answers; again, the target is suspended already and what is left is removed', async () => {
    simulator.setRunnerStatus(githubIdOf(simulator, 'carol-busy'), { busy: false });
    const result = await cli(config, 'suspend-identity', '--subject', 'carol-sub', '--issuer', issuer, '--remove-runners', '--json');
    expect(result).toMatchObject({ code: EXIT_OK, stderr: '' });
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ kind: 'identity', issuer, subject: 'carol-sub', already_suspended: true, suspended_by: 'system:cli', reason: 'INC-7' });
    expect(body.runner_removal.removed.map((entry: { runner_name: string }) => entry.runner_name)).toEqual(['carol-busy', 'carol-failing']);
    expect(body.runner_removal).toMatchObject({ busy: [], failed: [] });
  });

  it('suspends a rule without touching its runners unless asked, and says so when it was suspended already', async () => {
    const first = await cli(config, 'suspend-identity', '--rule', 'team-x');
    expect(first).toEqual({ code: EXIT_OK, stdout: 'Suspended everyone the policy rule "team-x" matched: their requests are refused until resume-identity.\n', stderr: '' });
    expect(await statusOf('dave-team-x')).toBe('pending');
    const again = await cli(config, 'suspend-identity', '--rule', 'team-x');
    expect(again.code).toBe(EXIT_OK);
    expect(again.stdout).toMatch(/^Already suspended since \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z by system:cli: everyone the policy rule "team-x" matched; nothing changed\.\n$/);
  });

  it('needs no GitHub settings without --remove-runners', async () => {
    const withoutGithub = loadConfig({ DATABASE_URL: database.url }, { scope: 'database' });
    const result = await cli(withoutGithub, 'suspend-identity', '--rule', 'team-y', '--json');
    expect(result.code).toBe(EXIT_OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'rule', rule: 'team-y', already_suspended: false, runner_removal: null });
  });

  it('resumes a target, and says so when it was not suspended; --json prints what the API answers', async () => {
    const resumed = await cli(config, 'resume-identity', '--issuer', issuer, '--subject', 'carol-sub');
    expect(resumed.code).toBe(EXIT_OK);
    expect(resumed.stdout).toMatch(
      new RegExp(`^Resumed the identity "carol-sub" of issuer ${issuer.replace(/\./g, '\\.')} \\(suspended since .+Z by system:cli\\)\\.\\n$`),
    );
    const again = await cli(config, 'resume-identity', '--issuer', issuer, '--subject', 'carol-sub');
    expect(again).toEqual({ code: EXIT_OK, stdout: `Not suspended: the identity "carol-sub" of issuer ${issuer}; nothing changed.\n`, stderr: '' });

    const json = await cli(config, 'resume-identity', '--rule', 'team-x', '--json');
    expect(json.code).toBe(EXIT_OK);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'rule', rule: 'team-x', was_suspended: true, lifted: { kind: 'rule', rule: 'team-x' } });
    const rows = await query<{ rule: string | null; subject: string | null }>(database, `SELECT rule, subject FROM suspensions`);
    expect(rows).toEqual([{ rule: 'team-y', subject: null }]);
    const audit = await query(database, `SELECT actor, outcome FROM audit_events WHERE action = 'resume_identity'`);
    expect(audit).toEqual([
      { actor: 'system:cli', outcome: 'succeeded' },
      { actor: 'system:cli', outcome: 'succeeded' },
      { actor: 'system:cli', outcome: 'succeeded' },
    ]);
  });

  it.each([
    [['suspend-identity'], /^Error: send either --issuer and --subject \(one identity\) or --rule \(everyone a policy rule matched\)\n$/],
    [['suspend-identity', '--rule', 'x', '--issuer', 'https://a.example', '--subject', 's'], /not both\n$/],
    [['suspend-identity', '--issuer', 'https://a.example'], /^Error: --subject is required with --issuer/],
    [['suspend-identity', '--issuer', 'a.example', '--subject', 's'], /^Error: --issuer must be the token's iss exactly as it carries it: an https:\/\/ \(or http:\/\/\) URL\n$/],
    [['suspend-identity', '--rule', 'x', '--reason', ' '], /argument ' ' is invalid\. Give a reason/],
    [['resume-identity'], /^Error: send either --issuer and --subject/],
    [['resume-identity', '--subject', 's'], /^Error: --issuer is required with --subject/],
    [['resume-identity', '--rule', 'x', '--remove-runners'], /unknown option '--remove-runners'/],
  ])('exits 2 on bad usage %j, saying what to give, and changes nothing', async (args, message) => {
    const before = await query(database, `SELECT id FROM suspensions ORDER BY id`);
    const result = await cli(config, ...args);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(await query(database, `SELECT id FROM suspensions ORDER BY id`)).toEqual(before);
  });
});
