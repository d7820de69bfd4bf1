/**
 * 50 requests at once for one runner name, 25 from each of two owners: one owner ends up holding
 * the name, the other is refused every time, GitHub has at most the one runner, and every attempt
 * has its one closing audit event. Both kinds of runner. (Truly concurrent on PostgreSQL; the
 * embedded database serves one transaction at a time.)
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

const REQUESTS_PER_OWNER = 25;

interface Answer {
  owner: 'alice' | 'bob';
  status: number;
  body: { runner_id?: string; error?: { code: string } };
}

interface AuditRow {
  action: string;
  outcome: string;
  runner_id: string | null;
  actor: string;
}

describe('50 simultaneous requests for one runner name from two owners (e2e)', () => {
  let t: TestApp;
  const tokens = { alice: '', bob: '' };

  beforeAll(async () => {
    t = await startTestApp();
    tokens.alice = await t.oidc.token({ sub: 'alice-sub', email: 'alice@example.com' });
    tokens.bob = await t.oidc.token({ sub: 'bob-sub', email: 'bob@example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Sends the 50 requests at once, alternating owners, and waits for every answer. */
  async function race(path: string, body: object): Promise<Answer[]> {
    const owners = Array.from({ length: REQUESTS_PER_OWNER * 2 }, (_, index) => (index % 2 === 0 ? 'alice' : 'bob') as Answer['owner']);
    return Promise.all(
      owners.map(async (owner) => {
        const response = await request(t.server).post(path).auth(tokens[owner], { type: 'bearer' }).send(body);
        return { owner, status: response.status, body: response.body as Answer['body'] };
      }),
    );
  }

  /** The live runners of that name each owner sees in GET /api/v1/runners. */
  async function listed(name: string): Promise<Record<Answer['owner'], string[]>> {
    const seen = { alice: [] as string[], bob: [] as string[] };
    for (const owner of ['alice', 'bob'] as const) {
      const response = await request(t.server).get('/api/v1/runners').auth(tokens[owner], { type: 'bearer' }).expect(200);
      const runners = response.body.runners as { runner_id: string; runner_name: string }[];
      seen[owner] = runners.filter((runner) => runner.runner_name === name).map((runner) => runner.runner_id);
    }
    return seen;
  }

  /** Checks what both kinds share and returns the owner holding the name and its runner's id. */
  async function expectOneHolder(name: string, answers: Answer[], action: string): Promise<{ holder: Answer['owner']; runnerId: string }> {
    expect(answers).toHaveLength(REQUESTS_PER_OWNER * 2);
    const winners = new Set(answers.filter((answer) => answer.status === 201).map((answer) => answer.owner));
    expect(winners.size).toBe(1);
    const [holder] = [...winners];
    const loser = holder === 'alice' ? 'bob' : 'alice';
    // The other owner is refused every time, with the code a client can act on.
    const refused = answers.filter((answer) => answer.owner === loser);
    expect(refused.map((answer) => [answer.status, answer.body.error?.code])).toEqual(Array(REQUESTS_PER_OWNER).fill([409, 'RUNNER_NAME_TAKEN']));
    // The holder's own requests either got the name (a later one replacing an earlier pending one) or were told to retry.
    for (const answer of answers.filter((candidate) => candidate.owner === holder && candidate.status !== 201)) {
      expect([answer.status, answer.body.error?.code]).toEqual([409, 'RUNNER_NAME_TAKEN']);
    }

    const seen = await listed(name);
    expect(seen[loser]).toEqual([]);
    expect(seen[holder]).toHaveLength(1);
    const runnerId = seen[holder][0];
    expect(answers.some((answer) => answer.body.runner_id === runnerId)).toBe(true);

    // Every request was one attempt, and every attempt has exactly one closing event.
    const events: AuditRow[] = await t.dataSource.query(
      `SELECT action, outcome, runner_id, actor FROM audit_events WHERE runner_name = $1 AND action = $2`,
      [name, action],
    );
    const closing = events.filter((event) => event.outcome !== 'attempted');
    expect(closing).toHaveLength(REQUESTS_PER_OWNER * 2);
    for (const attempted of events.filter((event) => event.outcome === 'attempted')) {
      expect(closing.filter((event) => event.runner_id === attempted.runner_id)).toHaveLength(1);
    }
    expect(closing.filter((event) => event.outcome === 'succeeded')).toHaveLength(answers.filter((answer) => answer.status === 201).length);
    return { holder, runnerId };
  }

  it('JIT: one owner holds the name, the other gets 409 each time, and GitHub has exactly one runner of that name', async () => {
    const name = 'contested-jit';
    const answers = await race('/api/v1/runners/jit', { runner_name: name, labels: ['race'] });

    const { runnerId } = await expectOneHolder(name, answers, 'provision_jit');
    const onGithub = t.simulator.runners().filter((runner) => runner.name === name);
    expect(onGithub).toHaveLength(1);
    const [row]: { github_runner_id: string }[] = await t.dataSource.query(`SELECT github_runner_id FROM runners WHERE id = $1`, [runnerId]);
    expect(Number(row.github_runner_id)).toBe(onGithub[0].id);
  });

  it('registration token: one owner holds the name, the other gets 409 each time, and GitHub registered nothing', async () => {
    const name = 'contested-token';
    const answers = await race('/api/v1/runners/provision', { runner_name: name, labels: ['race'] });

    await expectOneHolder(name, answers, 'provision');
    // A token registers a runner only when config.sh runs; nothing of that name was created.
    expect(t.simulator.runners().filter((runner) => runner.name === name)).toEqual([]);
  });
});
