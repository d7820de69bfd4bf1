/**
 * The policy is read again while the service runs: a good file takes effect, a bad one is refused
 * (the policy in force stays, and /health shows why the file on disk is not enforced).
 */
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { type PolicyFile, writePolicyFile } from './support/policy.js';

const rules = (allowed: string) => `
rules:
  - name: builders
    issuer: default
    claims: { team: builders }
    grant: { labels: { allowed: [${allowed}] } }
`;

describe('Policy reload (e2e)', () => {
  let t: TestApp;
  let policy: PolicyFile;
  let token: string;

  beforeAll(async () => {
    policy = writePolicyFile(rules('gpu'));
    t = await startTestApp({ policyFile: policy.path });
    token = await t.oidc.token({ sub: 'builder', team: 'builders' });
  });

  afterAll(async () => {
    await t?.close();
    policy?.remove();
  });

  const provision = (name: string, labels: string[]) =>
    request(t.server).post('/api/v1/runners/jit').auth(token, { type: 'bearer' }).send({ runner_name: name, labels });
  const health = async () => (await request(t.server).get('/health').expect(200)).body.info.policy;

  it('applies a changed file on SIGHUP', async () => {
    await provision('reload-arm-1', ['arm64']).expect(403);

    policy.write(rules('gpu, arm64'));
    process.emit('SIGHUP');

    await provision('reload-arm-2', ['arm64']).expect(201);
    expect(await health()).toMatchObject({ status: 'up', file: true });
    expect((await health()).last_reload_failed_at).toBeUndefined();
  });

  it('keeps the policy in force when the new file is bad: /health shows when, the log says why', async () => {
    policy.write(rules('{ pattern: "(" }'));
    process.emit('SIGHUP');

    const shown = await health();
    expect(shown.status).toBe('up');
    expect(Date.parse(shown.last_reload_failed_at)).not.toBeNaN();
    // Anyone can read /health: the file's path and the problem (rules, issuers, URLs) stay in the log.
    expect(JSON.stringify(shown)).not.toContain(policy.path);
    expect(JSON.stringify(shown)).not.toContain('builders');
    expect(t.logs.some((line) => /Policy reload failed.*rules\[0\] \\"builders\\": grant\.labels\.allowed\[0\]\.pattern/.test(line))).toBe(true);
    await provision('reload-arm-3', ['arm64']).expect(201);
    await provision('reload-x86', ['x86']).expect(403);
  });
});
