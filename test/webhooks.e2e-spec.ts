/**
 * POST /api/v1/webhooks/github as GitHub and as an attacker reach it: the signature over the raw
 * body, the 1 MiB limit, duplicates, and no route at all without GITHUB_WEBHOOK_SECRET. Payloads
 * are GitHub's own examples (@octokit/webhooks-examples), signed by the test.
 */
import { gzipSync } from 'node:zlib';
import { sign } from '@octokit/webhooks-methods';
import request from 'supertest';
import { startTestApp, type TestApp } from './support/app.js';
import { type Delivery, signedDelivery, webhookExamples, workflowJobPayload } from './support/webhooks.js';

const WEBHOOK_PATH = '/api/v1/webhooks/github';
const SECRET = 'webhook-secret-for-tests-0123456789';
const MIB = 1024 * 1024;

const post = (t: TestApp, delivery: Delivery, path = WEBHOOK_PATH) =>
  request(t.server).post(path).set(delivery.headers).send(delivery.body);

/** A ping payload of exactly `size` bytes of JSON (GitHub's ping example, padded). */
function pingOfSize(size: number): string {
  const ping = webhookExamples('ping')[0];
  const bare = JSON.stringify({ ...ping, padding: '' });
  return JSON.stringify({ ...ping, padding: 'x'.repeat(size - Buffer.byteLength(bare)) });
}

async function signedBody(body: string, event = 'ping'): Promise<Delivery> {
  const delivery = await signedDelivery(SECRET, event, {});
  return { body, headers: { ...delivery.headers, 'x-hub-signature-256': await sign(SECRET, body) } };
}

describe('GitHub webhook endpoint (e2e)', () => {
  describe('without GITHUB_WEBHOOK_SECRET', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp();
    });

    afterAll(async () => {
      await t?.close();
    });

    it.each([
      ['a signed delivery', async () => signedDelivery(SECRET, 'workflow_job', workflowJobPayload('in_progress'))],
      ['an unsigned one', async () => ({ body: '{}', headers: { 'content-type': 'application/json' } })],
      ['one over 1 MiB', async () => signedBody(pingOfSize(MIB + 1))],
    ])('answers %s exactly as it answers an unknown path: the route does not exist', async (_case, make) => {
      const delivery = await make();
      const webhook = await post(t, delivery);
      const unknown = await post(t, delivery, '/api/v1/webhooks/gitlab');

      expect(webhook.status).toBe(unknown.status);
      const withoutId = (body: { request_id: unknown }) => ({ ...body, request_id: 'id' });
      expect(JSON.stringify(withoutId(webhook.body)).replaceAll('/webhooks/github', '/webhooks/gitlab')).toBe(
        JSON.stringify(withoutId(unknown.body)),
      );
    });

    it('is a 404 NOT_FOUND, and the API description does not list it', async () => {
      const response = await post(t, await signedDelivery(SECRET, 'ping', webhookExamples('ping')[0])).expect(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
      const openapi = await request(t.server).get('/docs/openapi.json').expect(200);
      expect(Object.keys(openapi.body.paths)).not.toContain(WEBHOOK_PATH);
    });
  });

  describe('with GITHUB_WEBHOOK_SECRET', () => {
    let t: TestApp;
    const deliveriesCount = async (): Promise<number> =>
      Number((await t.dataSource.query(`SELECT count(*) AS n FROM webhook_deliveries`))[0].n);
    const auditCount = async (): Promise<number> => Number((await t.dataSource.query(`SELECT count(*) AS n FROM audit_events`))[0].n);

    beforeAll(async () => {
      // OIDC is on: the webhook is the one route that takes no bearer token.
      t = await startTestApp({ github: { webhookSecret: SECRET } });
    });

    afterAll(async () => {
      await t?.close();
    });

    // First: the first delivery a process acts on forgets the old ones (then at most every 10 minutes).
    it('forgets deliveries older than a day as new ones arrive', async () => {
      await t.dataSource.query(
        `INSERT INTO webhook_deliveries (delivery_id, event, received_at) VALUES ('ancient-1', 'ping', now() - interval '3 days')`,
      );
      await post(t, await signedDelivery(SECRET, 'ping', webhookExamples('ping')[0])).expect(200);
      const left = await t.dataSource.query(`SELECT delivery_id FROM webhook_deliveries WHERE delivery_id = 'ancient-1'`);
      expect(left).toEqual([]);
    });

    it('answers a signed ping without a bearer token', async () => {
      const response = await post(t, await signedDelivery(SECRET, 'ping', webhookExamples('ping')[0], 'ping-1')).expect(200);
      expect(response.body).toEqual({ delivery_id: 'ping-1', event: 'ping', action: null, outcome: 'pong' });
    });

    it('still wants a bearer token everywhere else', async () => {
      await request(t.server).get('/api/v1/runners').expect(401);
    });

    describe('refuses with 401 WEBHOOK_SIGNATURE_INVALID, and records nothing', () => {
      let payload: Record<string, unknown>;
      let genuine: Delivery;

      beforeAll(async () => {
        payload = workflowJobPayload('in_progress', { org: t.simulator.org });
        genuine = await signedDelivery(SECRET, 'workflow_job', payload);
      });

      it.each([
        ['no signature', (d: Delivery) => ({ ...d, headers: { ...d.headers, 'x-hub-signature-256': '' } }), 'missing'],
        ['a signature of another body', (d: Delivery) => ({ ...d, body: d.body.replace('"in_progress"', '"completed"') }), 'mismatch'],
        // The same JSON, other bytes: the signature is over the exact bytes, not over what they parse to.
        ['the same JSON re-indented', (d: Delivery) => ({ ...d, body: JSON.stringify(JSON.parse(d.body), null, 2) }), 'mismatch'],
        ['a signature made with the SHA-1 header form', (d: Delivery) => ({ ...d, headers: { ...d.headers, 'x-hub-signature-256': 'sha1=0123' } }), 'mismatch'],
      ])('%s', async (_case, spoil, reason) => {
        const [deliveries, events] = [await deliveriesCount(), await auditCount()];
        const response = await post(t, spoil(genuine)).expect(401);

        expect(response.body.error).toEqual({
          code: 'WEBHOOK_SIGNATURE_INVALID',
          message: expect.stringContaining('GITHUB_WEBHOOK_SECRET'),
          details: { reason },
        });
        expect(response.body.request_id).toEqual(expect.any(String));
        expect([await deliveriesCount(), await auditCount()]).toEqual([deliveries, events]);
      });

      it('a body signed with another secret', async () => {
        const forged = await signedDelivery('a-secret-the-attacker-chose-123', 'workflow_job', payload);
        await post(t, forged).expect(401);
      });

      it('a flood of forged deliveries writes no audit event and at most one log line', async () => {
        const events = await auditCount();
        const before = t.logs.filter((line) => line.includes('with a bad signature')).length;
        for (let i = 0; i < 30; i++) {
          await post(t, { ...genuine, headers: { ...genuine.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } }).expect(401);
        }
        expect(await auditCount()).toBe(events);
        expect(t.logs.filter((line) => line.includes('with a bad signature')).length - before).toBeLessThanOrEqual(1);
      });
    });

    it('acts on a signed body of just under 1 MiB, and refuses one over it with 413 PAYLOAD_TOO_LARGE', async () => {
      const under = await post(t, await signedBody(pingOfSize(MIB - 1))).expect(200);
      expect(under.body.outcome).toBe('pong');

      const over = await post(t, await signedBody(pingOfSize(MIB + 1))).expect(413);
      expect(over.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) }, request_id: expect.any(String) });
    });

    it('refuses a compressed body rather than inflate it before the signature is checked', async () => {
      const delivery = await signedBody(pingOfSize(10_000));
      const response = await request(t.server)
        .post(WEBHOOK_PATH)
        .set({ ...delivery.headers, 'content-encoding': 'gzip' })
        .send(gzipSync(delivery.body));
      expect(response.status).toBe(415);
      expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it("refuses a form-encoded delivery (the webhook's other content type) with 415, saying to send JSON", async () => {
      const body = `payload=${encodeURIComponent(JSON.stringify(webhookExamples('ping')[0]))}`;
      const delivery = await signedBody(body);
      const response = await request(t.server)
        .post(WEBHOOK_PATH)
        .set({ ...delivery.headers, 'content-type': 'application/x-www-form-urlencoded' })
        .send(body)
        .expect(415);
      expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('acts on a delivery once: the same X-GitHub-Delivery again is answered duplicate and changes nothing', async () => {
      const delivery = await signedDelivery(SECRET, 'ping', webhookExamples('ping')[0], 'dup-1');
      expect((await post(t, delivery).expect(200)).body.outcome).toBe('pong');
      const rows = await deliveriesCount();
      expect((await post(t, delivery).expect(200)).body).toEqual({ delivery_id: 'dup-1', event: 'ping', action: null, outcome: 'duplicate' });
      expect(await deliveriesCount()).toBe(rows);
    });

    it('acts again on a delivery id last seen more than a day ago', async () => {
      const delivery = await signedDelivery(SECRET, 'ping', webhookExamples('ping')[0], 'old-1');
      await post(t, delivery).expect(200);
      await t.dataSource.query(`UPDATE webhook_deliveries SET received_at = now() - interval '25 hours' WHERE delivery_id = 'old-1'`);
      expect((await post(t, delivery).expect(200)).body.outcome).toBe('pong');
    });

    it('answers events it does not act on with ignored', async () => {
      const push = webhookExamples('push')[0];
      const response = await post(t, await signedDelivery(SECRET, 'push', push)).expect(200);
      expect(response.body).toMatchObject({ event: 'push', outcome: 'ignored' });
    });

    it.each([
      ['without X-GitHub-Delivery', { 'x-github-delivery': '' }, /X-GitHub-Delivery is missing or malformed/],
      ['with a delivery id that is not a GUID', { 'x-github-delivery': "'; DROP TABLE runners; --" }, /X-GitHub-Delivery/],
      ['without X-GitHub-Event', { 'x-github-event': '' }, /X-GitHub-Event is missing or malformed/],
    ])('refuses a signed delivery %s with 400', async (_case, headers, message) => {
      const delivery = await signedDelivery(SECRET, 'workflow_job', workflowJobPayload('queued'));
      const response = await post(t, { ...delivery, headers: { ...delivery.headers, ...headers } }).expect(400);
      expect(response.body.error).toEqual({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) });
    });

    it('refuses a signed workflow_job payload that is not shaped as GitHub sends it, naming the field', async () => {
      const payload = workflowJobPayload('in_progress');
      (payload.workflow_job as Record<string, unknown>).run_id = 'not-a-number';
      const response = await post(t, await signedDelivery(SECRET, 'workflow_job', payload)).expect(400);
      expect(response.body.error.message).toMatch(/workflow_job\.run_id/);
    });
  });
});
