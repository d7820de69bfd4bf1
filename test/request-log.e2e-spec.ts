import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';

// Its own file: nestjs-pino keeps one root logger per process, so the app under test must be the
// only one this file starts for its log lines to be the ones captured.
describe('request log', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('logs one line per request with the full path, and none for health probes and metrics scrapes', async () => {
    await request(t.server).get('/health').set('x-request-id', 'probe-1').expect(200);
    await request(t.server).get('/healthz').set('x-request-id', 'probe-2').expect(200);
    await request(t.server).get('/readyz').set('x-request-id', 'probe-3').expect(200);
    await request(t.server).get('/metrics').set('x-request-id', 'probe-4').expect(200);
    await request(t.server).get('/api/v1/no-such-route').set('x-request-id', 'lost-1').expect(404);
    const requestLines = (id: string) =>
      t.logs.filter((line) => line.includes(`"request_id":"${id}"`) && line.includes('"msg":"GET'));
    // pino-http writes the line when the server finishes the response, which can be just after the
    // client has read it.
    for (let i = 0; i < 50 && requestLines('lost-1').length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const lost = requestLines('lost-1');
    expect(lost).toHaveLength(1);
    expect([...requestLines('probe-1'), ...requestLines('probe-2'), ...requestLines('probe-3'), ...requestLines('probe-4')]).toEqual([]);
    expect(JSON.parse(lost[0])).toMatchObject({ msg: 'GET /api/v1/no-such-route 404', req: { path: '/api/v1/no-such-route' } });
  });

});
