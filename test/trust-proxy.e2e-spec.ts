import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

// Its own file: the warning is logged outside any request, through nestjs-pino's process-wide root
// logger, which is the first app's of a test file.
describe('TRUST_PROXY=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ auth: 'off', app: { trustProxy: true } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('lets any client forge the audited source IP, so the start-up log warns and names the alternatives', async () => {
    await request(t.server)
      .post('/api/v1/runners/jit')
      .set('X-Forwarded-For', '198.51.100.66, 203.0.113.9')
      .send({ runner_name: 'trust-all-forged', labels: ['x'] })
      .expect(201);
    const rows: { source_ip: string }[] = await t.dataSource.query(
      `SELECT DISTINCT source_ip FROM audit_events WHERE runner_name = 'trust-all-forged'`,
    );
    expect(rows).toEqual([{ source_ip: '198.51.100.66' }]);

    const warnings = t.logs.map((line) => JSON.parse(line)).filter((line) => line.level === 40 && /TRUST_PROXY=true/.test(line.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/forge/);
    expect(warnings[0].msg).toMatch(/number of proxies/);
  });
});
