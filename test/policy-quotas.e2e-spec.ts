/**
 * Quotas under concurrency: many simultaneous requests against a small limit give exactly that many
 * runners, per identity and per rule. On PostgreSQL (TEST_DATABASE_URL, as in CI) the requests run
 * in parallel transactions, which is what the advisory locks are for.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';

const JIT_PATH = '/api/v1/runners/jit';
const SIMULTANEOUS = 20;
const LIMIT = 5;

const POLICY = `
rules:
  - name: one-identity-five
    issuer: default
    claims: { team: alpha }
    grant: { max_runners_per_identity: ${LIMIT} }
  - name: rule-wide-five
    issuer: default
    claims: { team: beta }
    grant: { max_runners: ${LIMIT} }
`;

describe('Quotas under concurrency (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;

  beforeAll(async () => {
    policy = writePolicyFile(POLICY);
    t = await startTestApp({ policyFile: policy.path });
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  const liveRunners = async (where: string, value: string): Promise<number> => {
    const rows: { count: string }[] = await t.dataSource.query(
      `SELECT count(*) AS count FROM runners WHERE ${where} = $1 AND status NOT IN ('deleted', 'failed')`,
      [value],
    );
    return Number(rows[0].count);
  };

  const provisionAtOnce = (tokens: string[]) =>
    Promise.all(
      tokens.map((token) => request(t.server).post(JIT_PATH).auth(token, { type: 'bearer' }).send({ runner_name_prefix: 'race' })),
    );

  it(`gives one identity exactly ${LIMIT} runners out of ${SIMULTANEOUS} simultaneous requests`, async () => {
    const token = await t.oidc.token({ sub: 'racer', team: 'alpha' });
    const answers = await provisionAtOnce(Array.from({ length: SIMULTANEOUS }, () => token));

    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(LIMIT);
    expect(statuses.filter((status) => status === 403)).toHaveLength(SIMULTANEOUS - LIMIT);
    expect(answers.filter((answer) => answer.status === 403).every((answer) => answer.body.error.code === 'QUOTA_EXCEEDED')).toBe(true);
    expect(await liveRunners('owner_subject', 'racer')).toBe(LIMIT);
  });

  it(`gives everyone a rule matched exactly ${LIMIT} runners together out of ${SIMULTANEOUS} simultaneous requests`, async () => {
    const tokens = await Promise.all(
      Array.from({ length: SIMULTANEOUS }, (_, index) => t.oidc.token({ sub: `racer-${index}`, team: 'beta' })),
    );
    const answers = await provisionAtOnce(tokens);

    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(LIMIT);
    expect(answers.filter((answer) => answer.status === 403).map((answer) => answer.body.error.details.limit)).toEqual(
      Array.from({ length: SIMULTANEOUS - LIMIT }, () => 'max_runners'),
    );
    expect(await liveRunners('policy_rule', 'rule-wide-five')).toBe(LIMIT);
  });
});
